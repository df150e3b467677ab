import ArgumentParser
import Logging
import ServiceRuntime
import TLSTestSupport
import Testing
import Wire
import WireTestSupport

/// Wire beneath TLS as the `--wire-tls-*` flags set it up, against live servers on 127.0.0.1: the server's
/// certificate is checked against the private CA and the address dialled, and with `--wire-tls-mutual` a client
/// without a certificate from that CA never reaches the Wire handshake.
///
/// Serialized: each test makes its certificates with the `openssl` CLI, and Foundation's `Process` on Linux has been
/// seen to lose a termination when several run at once (the tests then waited forever).
@Suite("Wire over TLS", .serialized)
struct WireOverTLSTests {
    private static let logger = Logger(label: "wire-tls-test")

    @Test func callsWorkOverTLSAndOverMutualTLS() async throws {
        try await withAuthority { authority, server, client in
            for mutual in [false, true] {
                let serverFlags = try flags(authority.certificatePath, server, mutual: mutual)
                let clientFlags = try flags(authority.certificatePath, client, mutual: mutual)
                try await withHealthServer(serverFlags.serverSecurity()) { port in
                    let health = try await call(port: port, clientFlags.clientSecurity())
                    #expect(health == "tls-test", "mutual: \(mutual)")
                }
            }
        }
    }

    @Test func aPlainClientCannotTalkToATLSServer() async throws {
        try await withAuthority { authority, server, _ in
            try await withHealthServer(try flags(authority.certificatePath, server, mutual: false).serverSecurity()) {
                port in
                let error = await #expect(throws: WireError.self) { try await call(port: port, nil) }
                #expect(error?.code == .unavailable)
            }
        }
    }

    @Test func mutualTLSRefusesAClientWithoutACertificateFromTheCA() async throws {
        try await withAuthority { authority, server, _ in
            let other = try await TestCertificateAuthority.make(name: "someone-else")
            defer { other.remove() }
            let stranger = try await other.issue("stranger")
            let serverSecurity = try flags(authority.certificatePath, server, mutual: true).serverSecurity()
            try await withHealthServer(serverSecurity) { port in
                // No certificate at all: TLS, but not mutual, on the client's side.
                let anonymous = try flags(authority.certificatePath, nil, mutual: false).clientSecurity()
                let refused = await #expect(throws: WireError.self) { try await call(port: port, anonymous) }
                #expect(refused?.message.contains("certificate required") == true, "\(String(describing: refused))")
                // A certificate that chains to another CA.
                let foreign = try flags(authority.certificatePath, stranger, mutual: true).clientSecurity()
                let unknown = await #expect(throws: WireError.self) { try await call(port: port, foreign) }
                #expect(unknown?.message.contains("unknown ca") == true, "\(String(describing: unknown))")
            }
        }
    }

    @Test func aClientRefusesAServerItCannotVerify() async throws {
        try await withAuthority { authority, _, _ in
            let other = try await TestCertificateAuthority.make(name: "someone-else")
            defer { other.remove() }
            let impostor = try await other.issue("impostor")
            let wrongAddress = try await authority.issue("elsewhere", addresses: ["198.18.0.9"], dnsNames: [])
            for (certificate, reason) in [
                (impostor, "unable to get local issuer"), (wrongAddress, "IP address mismatch"),
            ] {
                try await withHealthServer(
                    try flags(other.certificatePath, certificate, mutual: false).serverSecurity()
                ) { port in
                    let client = try flags(authority.certificatePath, nil, mutual: false).clientSecurity()
                    let error = await #expect(throws: WireError.self) { try await call(port: port, client) }
                    #expect(error?.message.contains(reason) == true, "\(String(describing: error))")
                }
            }
        }
    }

    @Test func flagsAreCheckedTogether() throws {
        #expect(throws: (any Error).self) {
            try WireTLSOptions.parse(["--wire-tls-certificate", "c.pem", "--wire-tls-key", "k.pem"])
        }
        #expect(throws: (any Error).self) {
            try WireTLSOptions.parse(["--wire-tls-ca", "ca.pem", "--wire-tls-key", "k.pem"])
        }
        #expect(try WireTLSOptions.parse([]).serverSecurity() == nil, "plain TCP unless --wire-tls-ca")
    }

    // MARK: - Support

    private func flags(_ ca: String, _ identity: TestCertificateAuthority.Issued?, mutual: Bool) throws
        -> WireTLSOptions
    {
        var arguments = ["--wire-tls-ca", ca]
        if let identity {
            arguments += ["--wire-tls-certificate", identity.certificatePath, "--wire-tls-key", identity.keyPath]
        }
        if mutual {
            arguments.append("--wire-tls-mutual")
        }
        return try WireTLSOptions.parse(arguments)
    }

    private func withAuthority(
        _ body: (TestCertificateAuthority, TestCertificateAuthority.Issued, TestCertificateAuthority.Issued)
            async throws -> Void
    ) async throws {
        let authority = try await TestCertificateAuthority.make()
        defer { authority.remove() }
        try await body(authority, try await authority.issue("server"), try await authority.issue("client"))
    }

    private func withHealthServer(_ security: WireTransportSecurity?, _ body: (Int) async throws -> Void) async throws {
        var router = WireRouter()
        router.registerHealthCheck(service: "tls-test")
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(
                serverName: "tls-test", keys: TestServiceKeys.shared, transportSecurity: security),
            router: router, logger: Self.logger
        )
        let running = Task { try await server.run() }
        do {
            try await body(server.port)
        } catch {
            await stop(server, running)
            throw error
        }
        await stop(server, running)
    }

    /// Stops the way a service stops (drain, not cancel): connections accepted at that moment are closed properly.
    private func stop(_ server: WireServer, _ running: Task<Void, any Error>) async {
        server.shutdownGracefully()
        _ = await running.result
    }

    private func call(port: Int, _ security: WireTransportSecurity?) async throws -> String {
        let client = WireClient(
            configuration: WireClientConfiguration(
                endpoints: [WireEndpoint(host: "127.0.0.1", port: port)], role: .operator, keys: TestServiceKeys.shared,
                defaultTimeout: .seconds(5), connectTimeout: .seconds(3), transportSecurity: security
            ),
            logger: Self.logger
        )
        defer { client.closeConnections() }
        return try await client.call(HealthCheck.self, WireEmpty()).service
    }
}
