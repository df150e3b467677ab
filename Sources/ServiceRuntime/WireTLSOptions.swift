import ArgumentParser
import TLS
import Wire

/// The flags that put Wire on TLS, for services on different hosts: off unless `--wire-tls-ca` is given; mutual TLS
/// (every client presents a certificate from the same private CA) with `--wire-tls-mutual`.
public struct WireTLSOptions: ParsableArguments {
    @Option(help: "PEM file with the private CA that Wire peers' certificates must chain to; turns TLS on for Wire.")
    public var wireTlsCa: String?

    @Option(
        help: "PEM certificate chain this process presents on Wire (as a server; as a client with --wire-tls-mutual).")
    public var wireTlsCertificate: String?

    @Option(help: "PEM private key of --wire-tls-certificate.")
    public var wireTlsKey: String?

    @Flag(help: "Mutual TLS on Wire: servers demand a client certificate from the CA, clients present theirs.")
    public var wireTlsMutual = false

    /// The ALPN name of Wire over TLS, so that no other TLS protocol (HTTPS, say) can be spoken to a Wire port.
    static let applicationProtocol = "tweeter-wire/2"

    public init() {}

    public func validate() throws {
        guard wireTlsCa != nil else {
            guard wireTlsCertificate == nil, wireTlsKey == nil, !wireTlsMutual else {
                throw ValidationError("--wire-tls-certificate, --wire-tls-key and --wire-tls-mutual need --wire-tls-ca")
            }
            return
        }
        guard (wireTlsCertificate == nil) == (wireTlsKey == nil) else {
            throw ValidationError("give --wire-tls-certificate and --wire-tls-key together")
        }
    }

    /// What a Wire server of this process puts beneath its framing; `nil` when Wire TLS is off.
    public func serverSecurity() throws -> WireTransportSecurity? {
        guard let ca = wireTlsCa else { return nil }
        guard let certificate = wireTlsCertificate, let key = wireTlsKey else {
            throw ValidationError("a Wire server on TLS needs --wire-tls-certificate and --wire-tls-key")
        }
        let role = TLSConfiguration.Role.server(
            certificateChainPath: certificate, privateKeyPath: key, clientTrustRootsPath: wireTlsMutual ? ca : nil
        )
        return try security(role)
    }

    /// What this process's Wire clients put beneath their framing; `nil` when Wire TLS is off.
    public func clientSecurity() throws -> WireTransportSecurity? {
        guard let ca = wireTlsCa else { return nil }
        guard !wireTlsMutual || (wireTlsCertificate != nil && wireTlsKey != nil) else {
            throw ValidationError("mutual TLS on Wire needs --wire-tls-certificate and --wire-tls-key")
        }
        let role = TLSConfiguration.Role.client(
            trustRootsPath: ca,
            certificateChainPath: wireTlsMutual ? wireTlsCertificate : nil,
            privateKeyPath: wireTlsMutual ? wireTlsKey : nil
        )
        return try security(role)
    }

    private func security(_ role: TLSConfiguration.Role) throws -> WireTransportSecurity {
        let configuration = TLSConfiguration(role: role, applicationProtocols: [Self.applicationProtocol])
        return WireTransportSecurity.tls(try TLSContext(configuration: configuration), mutual: wireTlsMutual)
    }
}

extension WireTransportSecurity {
    /// Our OpenSSL ``TLSHandler`` beneath Wire. A client checks the server's certificate against the host it dials
    /// (a DNS name, or an IP address entry for an address).
    public static func tls(_ context: TLSContext, mutual: Bool) -> WireTransportSecurity {
        WireTransportSecurity(name: mutual ? "mutual tls" : "tls") { pipeline, peerHost in
            try pipeline.addHandler(TLSHandler(context: context, serverName: peerHost))
        }
    }
}
