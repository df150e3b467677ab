import CLibCrypto
import Wire

/// Random bytes from OpenSSL's CSPRNG, and the hex form used to store and send them.
enum SecureRandom {
    static func bytes(_ count: Int) throws(WireError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else {
            throw WireError(.internal, reason: "random_failed", "no random bytes available")
        }
        return bytes
    }

    /// SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = EVP_Digest(bytes, bytes.count, &digest, &length, EVP_sha256(), nil)
        return digest
    }
}

extension Array where Element == UInt8 {
    var hex: String { Hex.encode(self) }

    init?(hex: some StringProtocol) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self = bytes
    }

    /// PostgreSQL's text form of a `bytea`.
    var byteaLiteral: String { "\\x" + hex }
}
