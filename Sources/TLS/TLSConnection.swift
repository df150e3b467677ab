import COpenSSL
import NIOCore

/// One OpenSSL `SSL` over a pair of memory BIOs: ciphertext goes in and comes out as bytes, never through a socket.
///
/// This is the whole TLS record flow without I/O, so two of these can talk to each other in a test. It belongs to one
/// event loop (it is not thread-safe). Every operation empties the thread's OpenSSL error queue before it starts and
/// takes whatever it leaves into its ``TLSError``, so no error outlives the call that caused it.
final class TLSConnection {
    enum HandshakeResult {
        case complete(TLSSession)
        /// The handshake needs the peer's next flight; send ``takeCiphertext(allocator:)`` and wait for input.
        case incomplete
        case failed(TLSError)
    }

    /// How a ``read(into:)`` ended, after it had appended every byte of plaintext it could decrypt.
    enum ReadResult {
        /// Every complete record was consumed; the rest needs more ciphertext.
        case needsMoreCiphertext
        /// The peer's close_notify arrived; nothing follows it.
        case closeNotify
        case failed(TLSError)
    }

    /// The largest plaintext handed to one `SSL_write`, far below its `Int32` limit so no call builds a huge record run.
    private static let maxWriteChunk = 1 << 20
    /// A TLS record carries at most 16 KiB of plaintext; reading in steps of one record keeps buffers small.
    private static let readChunk = 16_384
    /// Below this much room a read grows the buffer by ``readChunk`` first.
    private static let minimumReadRoom = 2_048

    let context: TLSContext
    private let ssl: OpaquePointer
    /// Ciphertext from the peer, waiting for OpenSSL to read it.
    private let networkInput: OpaquePointer
    /// Ciphertext OpenSSL produced, waiting to be sent.
    private let networkOutput: OpaquePointer

    /// - Parameters:
    ///   - context: the shared configuration; decides whether this side accepts or connects.
    ///   - serverName: clients only: the DNS name sent as SNI and, when the context verifies, checked against the
    ///     server's certificate.
    /// - Throws: ``TLSError`` `internal` when OpenSSL cannot allocate, `invalid_configuration` for a refused name.
    init(context: TLSContext, serverName: String? = nil) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.sslContext) else {
            throw .drainingErrorQueue(.internal, "SSL_new failed")
        }
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw .drainingErrorQueue(.internal, "BIO_new failed")
        }
        // From here on the SSL owns both BIOs and SSL_free frees them.
        SSL_set_bio(ssl, input, output)
        if context.configuration.role.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName, !Self.expect(serverName, on: ssl) {
                SSL_free(ssl)
                throw .drainingErrorQueue(.invalidConfiguration, "server name \(serverName) refused")
            }
        }
        self.context = context
        self.ssl = ssl
        self.networkInput = input
        self.networkOutput = output
    }

    deinit {
        SSL_free(ssl)
    }

    /// Names the server this client expects: a DNS name is sent as SNI and checked against the certificate's DNS
    /// names; an IP address (which SNI must not carry, RFC 6066) is checked against its IP address entries.
    private static func expect(_ serverName: String, on ssl: OpaquePointer) -> Bool {
        if X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) == 1 {
            return true
        }
        OpenSSLErrorQueue.clear()  // not an IP address: a DNS name
        return tweeter_SSL_set_tlsext_host_name(ssl, serverName) == 1 && SSL_set1_host(ssl, serverName) == 1
    }

    /// Hands ciphertext from the peer to OpenSSL. It is consumed by the next ``handshake()`` or ``read(into:)``.
    ///
    /// - Throws: ``TLSError`` `internal` if the memory BIO cannot grow.
    func receive(_ ciphertext: ByteBuffer) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        let accepted = ciphertext.withUnsafeReadableBytes { bytes in
            bytes.isEmpty ? true : BIO_write(networkInput, bytes.baseAddress, Int32(bytes.count)) == Int32(bytes.count)
        }
        guard accepted else { throw .drainingErrorQueue(.internal, "memory BIO refused ciphertext") }
    }

    /// Takes the handshake one step further with the ciphertext received so far.
    func handshake() -> HandshakeResult {
        OpenSSLErrorQueue.clear()
        let status = SSL_do_handshake(ssl)
        if status == 1, let session {
            return .complete(session)
        }
        switch SSL_get_error(ssl, status) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .incomplete
        case SSL_ERROR_ZERO_RETURN:
            return .failed(.drainingErrorQueue(.handshakeFailed, "peer sent close_notify during the handshake"))
        default:
            let verification = SSL_get_verify_result(ssl)
            let message =
                verification == X509_V_OK
                ? "handshake refused"
                : "peer certificate rejected: \(String(cString: X509_verify_cert_error_string(verification)))"
            return .failed(.drainingErrorQueue(.handshakeFailed, message))
        }
    }

    /// Decrypts every complete record received so far, appending the plaintext to `buffer`.
    func read(into buffer: inout ByteBuffer) -> ReadResult {
        while true {
            OpenSSLErrorQueue.clear()
            var status: Int32 = 0
            // Room for a whole record at first; after that whatever is left, unless too little is: asking for a
            // record's worth every time would regrow a buffer that is nearly empty.
            let room = buffer.writableBytes >= Self.minimumReadRoom ? 0 : Self.readChunk
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { bytes in
                status = SSL_read(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
                return Int(max(status, 0))
            }
            if count > 0 { continue }
            switch SSL_get_error(ssl, status) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return .needsMoreCiphertext
            case SSL_ERROR_ZERO_RETURN:
                return .closeNotify
            default:
                return .failed(.drainingErrorQueue(.protocolError, "cannot decrypt the peer's records"))
            }
        }
    }

    /// Encrypts `plaintext`; the records wait in ``takeCiphertext(allocator:)``. Only valid after the handshake.
    ///
    /// - Throws: ``TLSError`` `protocol_error` when the session can no longer send (after a fatal error or shutdown).
    func write(_ plaintext: ByteBuffer) throws(TLSError) {
        var remaining = plaintext
        while remaining.readableBytes > 0 {
            OpenSSLErrorQueue.clear()
            let chunk = min(remaining.readableBytes, Self.maxWriteChunk)
            let written = remaining.withUnsafeReadableBytes { SSL_write(ssl, $0.baseAddress, Int32(chunk)) }
            guard written > 0 else { throw .drainingErrorQueue(.protocolError, "cannot encrypt application data") }
            remaining.moveReaderIndex(forwardBy: Int(written))
        }
    }

    /// Queues this side's close_notify. Returns false, with nothing queued, when the session cannot send one: before
    /// the handshake finished or after a fatal error.
    @discardableResult
    func shutdown() -> Bool {
        OpenSSLErrorQueue.clear()
        guard SSL_is_init_finished(ssl) == 1, SSL_shutdown(ssl) >= 0 else {
            OpenSSLErrorQueue.clear()
            return false
        }
        return true
    }

    /// The ciphertext OpenSSL has produced since the last call (handshake flights, records, alerts), or `nil`.
    func takeCiphertext(allocator: ByteBufferAllocator) -> ByteBuffer? {
        var pending = BIO_ctrl_pending(networkOutput)
        guard pending > 0 else { return nil }
        var buffer = allocator.buffer(capacity: pending)
        while pending > 0 {
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
                Int(max(BIO_read(networkOutput, bytes.baseAddress, Int32(clamping: pending)), 0))
            }
            pending = BIO_ctrl_pending(networkOutput)
        }
        return buffer
    }

    /// What the handshake settled on; `nil` until it has finished.
    var session: TLSSession? {
        guard SSL_is_init_finished(ssl) == 1, let version = TLSVersion(openSSLValue: SSL_version(ssl)) else {
            return nil
        }
        var name: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &name, &length)
        let applicationProtocol = name.flatMap { name in
            length == 0 ? nil : String(decoding: UnsafeBufferPointer(start: name, count: Int(length)), as: UTF8.self)
        }
        let cipher = SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) }
        return TLSSession(version: version, applicationProtocol: applicationProtocol, cipherSuite: cipher ?? "unknown")
    }
}
