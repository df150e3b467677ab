/// The `host:port` of one Redis server (a standalone server or a cluster node).
public struct RedisNodeAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// An IP address or a host name.
    public var host: String
    /// The TCP port of the server's client port (not of the cluster bus).
    public var port: Int

    /// An address; nothing is checked or resolved until a connection is made.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 hosts may be bracketed: `[::1]:6379`); `nil` when the port is missing or invalid.
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
            let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        var host = text[..<colon]
        if host.first == "[", host.last == "]" {
            host = host.dropFirst().dropLast()
        }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port)
    }

    /// Parses a comma-separated list such as `127.0.0.1:17001,127.0.0.1:17002`; `nil` if any entry is invalid or
    /// the list is empty.
    public static func list(_ text: String) -> [RedisNodeAddress]? {
        let entries = text.split(separator: ",").map { $0.filter { !$0.isWhitespace } }.filter { !$0.isEmpty }
        let addresses = entries.compactMap { RedisNodeAddress($0) }
        guard !addresses.isEmpty, addresses.count == entries.count else { return nil }
        return addresses
    }

    public static func < (lhs: RedisNodeAddress, rhs: RedisNodeAddress) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
