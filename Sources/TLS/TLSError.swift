import COpenSSL

/// Why a TLS context could not be built or a TLS connection ended badly.
///
/// The ``code`` is stable and safe as a log field or metric label; ``openSSLErrors`` carries the text of OpenSSL's
/// error queue at the moment of failure (library, reason and the like, never key material).
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error class, named in snake_case.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The snake_case name, such as `handshake_failed`.
        public let description: String

        private init(_ name: String) {
            description = name
        }

        /// The peer's handshake messages were refused: a plain-HTTP client, garbage, no common version, cipher or
        /// ALPN protocol, or a certificate that did not verify.
        public static let handshakeFailed = Code("handshake_failed")
        /// The peer did not finish the handshake within the configured time.
        public static let handshakeTimeout = Code("handshake_timeout")
        /// The certificate chain or private key file could not be read, parsed or matched to each other.
        public static let certificateUnreadable = Code("certificate_unreadable")
        /// The configuration cannot work: bad ALPN names, version range, cipher lists or trust roots.
        public static let invalidConfiguration = Code("invalid_configuration")
        /// The peer broke the TLS record protocol after the handshake.
        public static let protocolError = Code("protocol_error")
        /// The connection ended without the peer's close_notify (a truncation the application must not trust).
        public static let unexpectedEOF = Code("unexpected_eof")
        /// Writes queued during the handshake went over ``TLSConfiguration/maxBufferedPlaintext``.
        public static let writeBufferFull = Code("write_buffer_full")
        /// OpenSSL could not allocate a connection; out of memory or a broken library.
        public static let `internal` = Code("internal")
    }

    public var code: Code
    /// What went wrong, for people.
    public var message: String
    /// OpenSSL's error queue for this failure, oldest first, as `ERR_error_string_n` prints it.
    public var openSSLErrors: [String]

    public init(_ code: Code, _ message: String, openSSLErrors: [String] = []) {
        self.code = code
        self.message = message
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        openSSLErrors.isEmpty
            ? "\(code): \(message)"
            : "\(code): \(message) [\(openSSLErrors.joined(separator: "; "))]"
    }
}

extension TLSError {
    /// An error carrying, and thereby emptying, the calling thread's OpenSSL error queue.
    ///
    /// Emptying it is what keeps one connection's failure from showing up as another's on the same event loop thread.
    static func drainingErrorQueue(_ code: Code, _ message: String) -> TLSError {
        TLSError(code, message, openSSLErrors: OpenSSLErrorQueue.drain())
    }
}

/// The calling thread's OpenSSL error queue.
enum OpenSSLErrorQueue {
    /// The text of every queued error, oldest first; the queue is empty afterwards.
    static func drain() -> [String] {
        var messages: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages
    }

    /// Drops whatever is queued, so that the next OpenSSL call's status is read against an empty queue.
    static func clear() {
        ERR_clear_error()
    }
}
