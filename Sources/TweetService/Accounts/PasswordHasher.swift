import CLibCrypto
import Foundation
import NIOPosix
import Wire

/// Hashes and checks passwords with scrypt from OpenSSL's libcrypto, on threads of its own: a hash takes a large
/// slice of a core and of memory by design, so it never runs on an event loop or the cooperative pool.
///
/// Stored form: `scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>`, so the cost can rise later without breaking old
/// hashes. (Debian 12's OpenSSL 3.0 has no Argon2; scrypt is the memory-hard KDF it offers.)
public final class PasswordHasher: Sendable {
    public struct Configuration: Sendable {
        /// log2 of scrypt's N. OWASP's minimum is N = 2^17 with r = 8, p = 1 (128 MiB per hash).
        public var logN: Int
        public var r: Int
        public var p: Int
        /// Hashes that may run at once; each needs 128·N·r bytes.
        public var threads: Int

        public init(logN: Int = 17, r: Int = 8, p: Int = 1, threads: Int = 2) {
            self.logN = logN
            self.r = r
            self.p = p
            self.threads = threads
        }
    }

    public let configuration: Configuration
    private let pool: NIOThreadPool

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.pool = NIOThreadPool(numberOfThreads: configuration.threads)
        pool.start()
    }

    public func hash(_ password: String) async throws -> String {
        let configuration = self.configuration
        return try await pool.runIfActive {
            let salt = try SecureRandom.bytes(16)
            let key = try Self.scrypt(password, salt: salt, logN: configuration.logN, r: configuration.r, p: configuration.p)
            return "scrypt$\(configuration.logN)$\(configuration.r)$\(configuration.p)$\(salt.hex)$\(key.hex)"
        }
    }

    /// Whether `password` matches `stored`; compares in constant time.
    public func verify(_ password: String, against stored: String) async throws -> Bool {
        try await pool.runIfActive {
            let parts = stored.split(separator: "$")
            guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
                let salt = [UInt8](hex: parts[4]), let expected = [UInt8](hex: parts[5])
            else { return false }
            let key = try Self.scrypt(password, salt: salt, logN: logN, r: r, p: p, length: expected.count)
            return CRYPTO_memcmp(key, expected, key.count) == 0
        }
    }

    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }

    private static func scrypt(_ password: String, salt: [UInt8], logN: Int, r: Int, p: Int, length: Int = 32) throws -> [UInt8] {
        var key = [UInt8](repeating: 0, count: length)
        let memoryNeeded = UInt64(128) * (UInt64(1) << logN) * UInt64(r) * UInt64(p) + (UInt64(1) << 24)
        let status = password.utf8CString.withUnsafeBufferPointer { passwordBytes in
            EVP_PBE_scrypt(
                passwordBytes.baseAddress, passwordBytes.count - 1, salt, salt.count,
                UInt64(1) << logN, UInt64(r), UInt64(p), memoryNeeded, &key, length
            )
        }
        guard status == 1 else {
            throw WireError(.internal, reason: "kdf_failed", "scrypt failed")
        }
        return key
    }
}
