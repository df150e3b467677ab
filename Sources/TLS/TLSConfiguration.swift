import NIOCore

/// A TLS protocol version we speak. Nothing older than TLS 1.2 is offered or accepted.
public enum TLSVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    case v1_2
    case v1_3

    /// The name OpenSSL and most tools print: `TLSv1.2`, `TLSv1.3`.
    public var description: String {
        switch self {
        case .v1_2: "TLSv1.2"
        case .v1_3: "TLSv1.3"
        }
    }
}

/// How one side of a TLS connection is set up: its role, protocol versions, ciphers, ALPN and time limits.
///
/// The defaults are a modern profile: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers only, ALPN `http/1.1`,
/// a 10 s handshake limit. Build a ``TLSContext`` from it once at startup.
public struct TLSConfiguration: Sendable, Hashable {
    /// Which end of the connection this side is, and what it proves or checks.
    public enum Role: Sendable, Hashable {
        /// Accepts connections, presenting the certificate chain (leaf first) and the private key read from PEM files.
        /// With `clientTrustRootsPath` it also demands a client certificate and verifies it against the CA
        /// certificates in that PEM file (mutual TLS): a client without one fails the handshake.
        case server(certificateChainPath: String, privateKeyPath: String, clientTrustRootsPath: String? = nil)
        /// Opens connections. The server's certificate is verified against the CA certificates in the PEM file at
        /// `trustRootsPath`, and against the server name (or IP address) the handler is given; `nil` turns
        /// verification off, which only tests against a self-signed server should do. With a certificate chain and
        /// key the client presents them when the server asks (mutual TLS).
        case client(trustRootsPath: String?, certificateChainPath: String? = nil, privateKeyPath: String? = nil)
    }

    /// TLS 1.2 suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305, nothing else.
    public static let modernTLS12CipherList = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// TLS 1.3 suites: all three AEAD suites of RFC 8446 that OpenSSL enables by default.
    public static let modernTLS13CipherSuites =
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    public var role: Role
    /// ALPN protocol names in order of preference. A server picks the first of these the client offers and refuses a
    /// client that offers ALPN but none of these; a client offers them all. Empty turns ALPN off.
    public var applicationProtocols: [String]
    public var minimumVersion: TLSVersion
    public var maximumVersion: TLSVersion
    /// The OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are set by ``tls13CipherSuites``).
    public var tls12CipherList: String
    /// The OpenSSL cipher suite list for TLS 1.3.
    public var tls13CipherSuites: String
    /// How long a peer may take to finish the handshake, counted from the connection becoming active.
    public var handshakeTimeout: TimeAmount
    /// How long a closing connection waits for its last records (close_notify or an alert) to reach the socket
    /// before the socket is closed anyway; bounds how long a peer that stops reading can hold a connection.
    public var shutdownTimeout: TimeAmount
    /// The most plaintext bytes that writes may queue while the handshake is still running; writes beyond it fail
    /// with `write_buffer_full`.
    public var maxBufferedPlaintext: Int

    /// - Parameters:
    ///   - role: server (certificate and key files) or client (trust roots).
    ///   - applicationProtocols: ALPN names, most preferred first; `["http/1.1"]` unless said otherwise.
    ///   - minimumVersion: the oldest version accepted; TLS 1.2 by default.
    ///   - maximumVersion: the newest version offered; TLS 1.3 by default.
    ///   - handshakeTimeout: 10 s by default.
    ///   - maxBufferedPlaintext: 1 MiB by default.
    public init(
        role: Role,
        applicationProtocols: [String] = ["http/1.1"],
        minimumVersion: TLSVersion = .v1_2,
        maximumVersion: TLSVersion = .v1_3,
        tls12CipherList: String = TLSConfiguration.modernTLS12CipherList,
        tls13CipherSuites: String = TLSConfiguration.modernTLS13CipherSuites,
        handshakeTimeout: TimeAmount = .seconds(10),
        shutdownTimeout: TimeAmount = .seconds(3),
        maxBufferedPlaintext: Int = 1 << 20
    ) {
        self.role = role
        self.applicationProtocols = applicationProtocols
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.tls12CipherList = tls12CipherList
        self.tls13CipherSuites = tls13CipherSuites
        self.handshakeTimeout = handshakeTimeout
        self.shutdownTimeout = shutdownTimeout
        self.maxBufferedPlaintext = maxBufferedPlaintext
    }

    /// Checks what can be checked without OpenSSL; ``TLSContext`` runs it before touching any file.
    ///
    /// - Throws: ``TLSError`` `invalid_configuration` naming the first problem found.
    public func validate() throws(TLSError) {
        guard minimumVersion <= maximumVersion else {
            throw TLSError(
                .invalidConfiguration, "minimum version \(minimumVersion) is above maximum \(maximumVersion)")
        }
        guard handshakeTimeout > .zero, shutdownTimeout > .zero else {
            throw TLSError(.invalidConfiguration, "handshake and shutdown timeouts must be positive")
        }
        guard maxBufferedPlaintext >= 0 else {
            throw TLSError(.invalidConfiguration, "maxBufferedPlaintext must not be negative")
        }
        _ = try ALPN.wireFormat(applicationProtocols)
    }
}
