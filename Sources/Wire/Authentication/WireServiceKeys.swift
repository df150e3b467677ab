import CLibCrypto

/// The cluster's shared secret that every Wire peer proves it holds, with room for a second one while a key is
/// rotated.
///
/// A peer proves with the first key (``current``) and accepts a proof made with either. To rotate without downtime:
/// add the new key as the second line everywhere and restart one process at a time; then swap the two lines
/// everywhere (one at a time again); then remove the old line. At every step each pair of processes shares a key.
///
/// The key file holds one key per line, 32 to 64 bytes written in hex (`openssl rand -hex 32`); empty lines and
/// lines starting with `#` are ignored. It must not be readable by group or others.
public struct WireServiceKeys: Sendable, Hashable, CustomStringConvertible {
    /// The key this peer proves with.
    public let current: [UInt8]
    /// The key still accepted during a rotation.
    public let previous: [UInt8]?

    /// Shortest key accepted, in bytes: HMAC-SHA256's full strength.
    public static let minimumKeyLength = 32
    /// Longest key accepted, in bytes (one SHA-256 block).
    public static let maximumKeyLength = 64

    public init(current: [UInt8], previous: [UInt8]? = nil) throws(WireError) {
        for key in [current] + (previous.map { [$0] } ?? []) {
            guard (Self.minimumKeyLength...Self.maximumKeyLength).contains(key.count) else {
                throw WireError(
                    .invalidArgument, reason: "invalid_service_key",
                    "a service key must be \(Self.minimumKeyLength) to \(Self.maximumKeyLength) bytes, not \(key.count)"
                )
            }
        }
        self.current = current
        self.previous = previous
    }

    /// Parses the key file's text: one or two keys in hex.
    public init(fileContents text: String) throws(WireError) {
        let lines = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingWhitespace() }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard (1...2).contains(lines.count) else {
            throw WireError(
                .invalidArgument, reason: "invalid_service_key",
                "a service key file holds one key, or two during a rotation; found \(lines.count)"
            )
        }
        var keys: [[UInt8]] = []
        for (number, line) in lines.enumerated() {
            guard let key = Hex.decode(line) else {
                throw WireError(.invalidArgument, reason: "invalid_service_key", "key \(number + 1) is not hex")
            }
            keys.append(key)
        }
        try self.init(current: keys[0], previous: keys.count > 1 ? keys[1] : nil)
    }

    /// A fresh random 32-byte key, for processes that run both ends themselves (benchmarks, tests).
    public static func generate() -> WireServiceKeys {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<minimumKeyLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return try! WireServiceKeys(current: key)  // the length is the minimum: valid
    }

    /// Never the keys themselves, so that logging a configuration cannot leak them.
    public var description: String { previous == nil ? "WireServiceKeys(1 key)" : "WireServiceKeys(2 keys, rotating)" }

    /// Every key a proof may have been made with, the current one first.
    var accepted: [[UInt8]] { [current] + (previous.map { [$0] } ?? []) }

    /// HMAC-SHA256 of `message` under `key`: the handshake's proofs, and keys the Gateway derives for its own use.
    public static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &digest, &length)
        precondition(result != nil && length == 32, "HMAC-SHA256 failed")
        return Array(digest.prefix(Int(length)))
    }

    /// Compares in time that does not depend on where the inputs differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && CRYPTO_memcmp(a, b, a.count) == 0
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return self[start..<end]
    }
}
