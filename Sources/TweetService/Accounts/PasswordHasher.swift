import CLibCrypto
import Foundation
import NIOPosix
import Synchronization
import Wire

/// Hashes and checks passwords with scrypt from OpenSSL's libcrypto, on threads of its own: a hash takes a large
/// slice of a core and of memory by design, so it never runs on an event loop or the cooperative pool.
///
/// Stored form: `scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>`, so the cost can rise later without breaking old
/// hashes. (Debian 12's OpenSSL 3.0 has no Argon2; scrypt is the memory-hard KDF it offers.)
///
/// The queue in front of the threads is bounded by work, not length (``HashingAdmission``): a hash that would wait
/// longer than ``Configuration/maxQueueWait`` for a thread is refused at once with `resource_exhausted` /
/// `hashing_busy`, which the Gateway answers 503 with `Retry-After`.
public final class PasswordHasher: Sendable {
    public struct Configuration: Sendable {
        /// log2 of scrypt's N. OWASP's minimum is N = 2^17 with r = 8, p = 1 (128 MiB per hash).
        public var logN: Int
        public var r: Int
        public var p: Int
        /// Hashes that may run at once; each needs 128·N·r bytes.
        public var threads: Int
        /// The longest a hash may expect to wait for a thread; beyond it, hashes are refused (`hashing_busy`).
        public var maxQueueWait: Duration

        /// - Parameters:
        ///   - logN, r, p: scrypt's cost for new hashes; OWASP's minimum by default.
        ///   - threads: 2 by default.
        ///   - maxQueueWait: 2 s by default: about 8 queued hashes at the production cost on two threads.
        public init(logN: Int = 17, r: Int = 8, p: Int = 1, threads: Int = 2, maxQueueWait: Duration = .seconds(2)) {
            self.logN = logN
            self.r = r
            self.p = p
            self.threads = threads
            self.maxQueueWait = maxQueueWait
        }

        /// What one hash is guessed to take before any is measured: about 0.5 s at N = 2^17 on this project's
        /// reference machine, halving with each step down of `logN`.
        var estimatedHashTime: Duration {
            .seconds(0.5 * pow(2, Double(logN - 17)) * Double(r) / 8 * Double(p))
        }
    }

    /// The error for a hash refused because the queue holds more work than ``Configuration/maxQueueWait``.
    public static let busy = WireError(
        .resourceExhausted, reason: "hashing_busy", "too many password checks are waiting; retry shortly")

    public let configuration: Configuration
    private let pool: NIOThreadPool
    private let admission: Mutex<HashingAdmission>

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.pool = NIOThreadPool(numberOfThreads: configuration.threads)
        self.admission = Mutex(
            HashingAdmission(
                threads: configuration.threads, maxQueueWait: configuration.maxQueueWait,
                estimatedHashTime: configuration.estimatedHashTime))
        pool.start()
    }

    /// Runs `work` on a hashing thread if the queue admits it.
    ///
    /// - Throws: ``busy`` at once when the queue is full; whatever `work` throws.
    private func admitted<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard admission.withLock({ $0.admit() }) else { throw Self.busy }
        let ran = Mutex<Duration?>(nil)
        defer {
            let duration = ran.withLock { $0 }
            admission.withLock { $0.finish(ranFor: duration) }
        }
        return try await pool.runIfActive {
            let start = ContinuousClock.now
            defer { ran.withLock { $0 = ContinuousClock.now - start } }
            return try work()
        }
    }

    public func hash(_ password: String) async throws -> String {
        let configuration = self.configuration
        return try await admitted {
            let salt = try SecureRandom.bytes(16)
            let key = try Self.scrypt(
                password, salt: salt, logN: configuration.logN, r: configuration.r, p: configuration.p)
            return "scrypt$\(configuration.logN)$\(configuration.r)$\(configuration.p)$\(salt.hex)$\(key.hex)"
        }
    }

    /// Whether `password` matches `stored`; compares in constant time.
    public func verify(_ password: String, against stored: String) async throws -> Bool {
        try await admitted {
            let parts = stored.split(separator: "$")
            guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let r = Int(parts[2]),
                let p = Int(parts[3]),
                let salt = [UInt8](hex: parts[4]), let expected = [UInt8](hex: parts[5])
            else { return false }
            let key = try Self.scrypt(password, salt: salt, logN: logN, r: r, p: p, length: expected.count)
            return CRYPTO_memcmp(key, expected, key.count) == 0
        }
    }

    public func shutdown() async throws {
        try await pool.shutdownGracefully()
    }

    private static func scrypt(_ password: String, salt: [UInt8], logN: Int, r: Int, p: Int, length: Int = 32) throws
        -> [UInt8]
    {
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
