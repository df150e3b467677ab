/// What a finished handshake settled on for one connection.
public struct TLSSession: Sendable, Hashable {
    public var version: TLSVersion
    /// The ALPN protocol both sides agreed on, such as `http/1.1`; `nil` when either side did not use ALPN.
    public var applicationProtocol: String?
    /// The cipher suite in OpenSSL's naming, such as `TLS_AES_256_GCM_SHA384` or `ECDHE-ECDSA-AES128-GCM-SHA256`.
    public var cipherSuite: String

    public init(version: TLSVersion, applicationProtocol: String?, cipherSuite: String) {
        self.version = version
        self.applicationProtocol = applicationProtocol
        self.cipherSuite = cipherSuite
    }
}

/// What a ``TLSHandler`` tells the handlers after it, through `userInboundEventTriggered`.
///
/// Errors travel the usual way instead, as a ``TLSError`` through `errorCaught`.
public enum TLSEvent: Sendable, Hashable {
    /// The handshake finished; plaintext may flow. Writes queued during the handshake have been sent already.
    case handshakeCompleted(TLSSession)
    /// The peer closed the TLS session cleanly. The handler answers with its own close_notify and closes the channel;
    /// everything read before this event was complete and untruncated.
    case closeNotifyReceived
}
