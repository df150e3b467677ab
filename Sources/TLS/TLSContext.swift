import COpenSSL

/// An OpenSSL `SSL_CTX` built once from a ``TLSConfiguration`` and shared by every connection.
///
/// Building one reads the certificate chain and key (or the trust roots) from disk: do it at startup, never on an
/// event loop. Each ``TLSHandler`` then makes its per-connection `SSL` from it.
///
/// `@unchecked Sendable`: no code changes the `SSL_CTX` after `init`, and OpenSSL supports sharing a configured
/// `SSL_CTX` between threads: what it changes inside during handshakes (reference counts, the session cache) it
/// guards with its own locks. The other stored property is an immutable value.
public final class TLSContext: @unchecked Sendable {
    public let configuration: TLSConfiguration
    let sslContext: OpaquePointer

    /// Builds the context, loading certificate and key (server) or trust roots (client).
    ///
    /// - Throws: ``TLSError`` `invalid_configuration` for a configuration OpenSSL refuses (versions, cipher lists,
    ///   ALPN, trust roots), `certificate_unreadable` when the chain or key cannot be read or do not match.
    public init(configuration: TLSConfiguration) throws(TLSError) {
        try configuration.validate()
        OpenSSLErrorQueue.clear()
        let isServer = configuration.role.isServer
        guard let sslContext = SSL_CTX_new(isServer ? TLS_server_method() : TLS_client_method()) else {
            throw .drainingErrorQueue(.internal, "SSL_CTX_new failed")
        }
        do {
            try Self.configure(sslContext, with: configuration)
        } catch {
            SSL_CTX_free(sslContext)
            throw error
        }
        self.configuration = configuration
        self.sslContext = sslContext
        if isServer, !configuration.applicationProtocols.isEmpty {
            // No closure context can reach a C callback, so the callback finds this context through `arg`. Every
            // connection holds its TLSContext strongly, so `self` outlives every handshake that calls back.
            SSL_CTX_set_alpn_select_cb(sslContext, selectApplicationProtocol, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    deinit {
        SSL_CTX_free(sslContext)
    }

    private static func configure(_ context: OpaquePointer, with configuration: TLSConfiguration) throws(TLSError) {
        guard tweeter_SSL_CTX_set_min_proto_version(context, configuration.minimumVersion.openSSLValue) == 1,
            tweeter_SSL_CTX_set_max_proto_version(context, configuration.maximumVersion.openSSLValue) == 1
        else {
            throw .drainingErrorQueue(.invalidConfiguration, "protocol version range refused")
        }
        guard SSL_CTX_set_cipher_list(context, configuration.tls12CipherList) == 1 else {
            throw .drainingErrorQueue(.invalidConfiguration, "TLS 1.2 cipher list refused")
        }
        guard SSL_CTX_set_ciphersuites(context, configuration.tls13CipherSuites) == 1 else {
            throw .drainingErrorQueue(.invalidConfiguration, "TLS 1.3 cipher suites refused")
        }
        // Renegotiation (TLS 1.2 only) is a cheap way for a client to make the server do handshakes. The client's
        // cipher order is kept: every suite allowed is strong, and clients without AES hardware put ChaCha20 first.
        SSL_CTX_set_options(context, tweeter_SSL_OP_NO_RENEGOTIATION)

        switch configuration.role {
        case .server(let chainPath, let keyPath, let clientTrustRootsPath):
            try useIdentity(context, chainPath: chainPath, keyPath: keyPath)
            if let clientTrustRootsPath {
                try loadTrustRoots(context, path: clientTrustRootsPath)
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
            }
        case .client(let trustRootsPath, let chainPath, let keyPath):
            if let trustRootsPath {
                try loadTrustRoots(context, path: trustRootsPath)
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            } else {
                SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            }
            if let chainPath, let keyPath {
                try useIdentity(context, chainPath: chainPath, keyPath: keyPath)
            }
            if !configuration.applicationProtocols.isEmpty {
                let wire = try ALPN.wireFormat(configuration.applicationProtocols)
                // The one OpenSSL setter that returns 0 on success.
                guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {
                    throw .drainingErrorQueue(.invalidConfiguration, "ALPN protocol list refused")
                }
            }
        }
    }
}

/// Loads this side's certificate chain (leaf first) and private key, and checks that they belong together.
private func useIdentity(_ context: OpaquePointer, chainPath: String, keyPath: String) throws(TLSError) {
    guard SSL_CTX_use_certificate_chain_file(context, chainPath) == 1 else {
        throw .drainingErrorQueue(.certificateUnreadable, "cannot load certificate chain from \(chainPath)")
    }
    guard SSL_CTX_use_PrivateKey_file(context, keyPath, SSL_FILETYPE_PEM) == 1 else {
        throw .drainingErrorQueue(.certificateUnreadable, "cannot load private key from \(keyPath)")
    }
    guard SSL_CTX_check_private_key(context) == 1 else {
        throw .drainingErrorQueue(.certificateUnreadable, "private key does not match the certificate")
    }
}

/// Loads the CA certificates that the peer's certificate must chain to.
private func loadTrustRoots(_ context: OpaquePointer, path: String) throws(TLSError) {
    guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
        throw .drainingErrorQueue(.invalidConfiguration, "cannot load trust roots from \(path)")
    }
}

/// OpenSSL's ALPN callback for servers: picks the first of the configured protocols that the client offers.
///
/// A client that offers ALPN but none of ours gets the fatal `no_application_protocol` alert RFC 7301 asks for.
private func selectApplicationProtocol(
    ssl: OpaquePointer?,
    out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    outLength: UnsafeMutablePointer<UInt8>?,
    offer: UnsafePointer<UInt8>?,
    offerLength: UInt32,
    arg: UnsafeMutableRawPointer?
) -> Int32 {
    guard let arg, let offer, let out, let outLength else { return SSL_TLSEXT_ERR_ALERT_FATAL }
    let context = Unmanaged<TLSContext>.fromOpaque(arg).takeUnretainedValue()
    let offerBytes = UnsafeRawBufferPointer(start: offer, count: Int(offerLength))
    guard let range = ALPN.select(preference: context.configuration.applicationProtocols, offer: offerBytes) else {
        return SSL_TLSEXT_ERR_ALERT_FATAL
    }
    // Pointing into the client's offer is safe: OpenSSL copies the selected name before the offer goes away.
    out.pointee = offer + range.lowerBound
    outLength.pointee = UInt8(range.count)
    return SSL_TLSEXT_ERR_OK
}

extension TLSConfiguration.Role {
    /// Whether connections of this role accept (server) rather than connect (client).
    var isServer: Bool {
        if case .server = self { true } else { false }
    }
}

extension TLSVersion {
    var openSSLValue: Int32 {
        switch self {
        case .v1_2: TLS1_2_VERSION
        case .v1_3: TLS1_3_VERSION
        }
    }

    init?(openSSLValue: Int32) {
        switch openSSLValue {
        case TLS1_2_VERSION: self = .v1_2
        case TLS1_3_VERSION: self = .v1_3
        default: return nil
        }
    }
}
