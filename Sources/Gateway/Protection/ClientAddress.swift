import NIOCore

/// The part of a client's address that names the client, for rate limits and connection limits.
///
/// An IPv4 address names one client (or one NAT). An IPv6 client usually holds a whole /64 and can pick a fresh
/// address for every request, so IPv6 addresses are counted by their /64 prefix. An IPv4 address mapped into IPv6
/// (`::ffff:a.b.c.d`) counts as the IPv4 address.
enum ClientAddress {
    static func key(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        guard case .v6(let v6) = address else { return address.ipAddress ?? "unknown" }
        let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map {
            String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
        }
        return groups.joined(separator: ":") + "::/64"
    }
}
