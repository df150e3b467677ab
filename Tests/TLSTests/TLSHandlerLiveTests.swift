import Foundation
import NIOCore
import TLSTestSupport
import Testing

@testable import TLS

/// A live server on 127.0.0.1 with ``TLSHandler`` in front of an echo: real sockets, real peers, including the
/// `openssl` and `curl` command-line tools.
@Suite("TLS handler on live sockets", .serialized)
struct TLSHandlerLiveTests {
    /// After a bad peer, the same server must still serve a good one: the failure cost one connection only.
    private func expectServesAGoodClient(_ server: TLSTestServer, certificate: TestCertificate) async throws {
        let tls = try TLSContext(configuration: certificate.verifyingClientConfiguration)
        let channel = try await connect(port: server.port, tls: tls)
        let echoed = try await withTimeout(.seconds(10)) {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "still serving"))
                return try await read(13, from: inbound)
            }
        }
        #expect(String(buffer: echoed) == "still serving")
    }

    /// Sends `bytes` over plain TCP and waits for the server to close; returns what it sent back before.
    ///
    /// A server closing with some of our bytes still unread makes the kernel answer with a reset instead of a FIN;
    /// either way the connection is closed, which is all this waits for.
    private func sendRaw(_ bytes: ByteBuffer, to server: TLSTestServer) async throws -> ByteBuffer {
        let channel = try await connect(port: server.port, tls: nil)
        return try await withTimeout(.seconds(10)) {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(bytes)
                var received = ByteBuffer()
                do {
                    for try await chunk in inbound {
                        received.writeImmutableBuffer(chunk)
                    }
                } catch let error as IOError where error.errnoCode == ECONNRESET {
                    return received
                }
                return received
            }
        }
    }

    @Test func echoesOneMebibyteBothWaysOverTLS13WithHTTP11() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration) { server in
                let clientLog = TLSEventLog()
                let tls = try TLSContext(configuration: certificate.verifyingClientConfiguration)
                let channel = try await connect(port: server.port, tls: tls, log: clientLog)
                var generator = SystemRandomNumberGenerator()
                let payload = ByteBuffer(
                    bytes: (0..<(1 << 20)).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
                let echoed = try await withTimeout(.seconds(30)) {
                    try await channel.executeThenClose { inbound, outbound in
                        try await outbound.write(payload)
                        return try await read(payload.readableBytes, from: inbound)
                    }
                }
                #expect(echoed == payload)
                let session = try #require(clientLog.sessions.first)
                #expect(session.version == .v1_3)
                #expect(session.applicationProtocol == "http/1.1")
                #expect(server.log.sessions == [session])
                #expect(try await eventually { server.log.closedConnections == 1 })
                #expect(server.log.errors.isEmpty)
            }
        }
    }

    @Test func tls12FromTheClientUsesECDHEWithAESGCM() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration) { server in
                var client = certificate.verifyingClientConfiguration
                client.maximumVersion = .v1_2
                client.tls12CipherList = "ECDHE-ECDSA-AES256-GCM-SHA384"
                let clientLog = TLSEventLog()
                let channel = try await connect(
                    port: server.port, tls: TLSContext(configuration: client), log: clientLog)
                let echoed = try await withTimeout(.seconds(10)) {
                    try await channel.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(string: "over 1.2"))
                        return try await read(8, from: inbound)
                    }
                }
                #expect(String(buffer: echoed) == "over 1.2")
                #expect(clientLog.sessions.map(\.version) == [.v1_2])
                #expect(clientLog.sessions.map(\.cipherSuite) == ["ECDHE-ECDSA-AES256-GCM-SHA384"])
            }
        }
    }

    @Test func tls11IsRefusedAndTheServerGoesOn() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration) { server in
                // OpenSSL 3 only builds a TLS 1.1 ClientHello at security level 0.
                let result = try await ExternalProcess.run(
                    "/usr/bin/openssl",
                    [
                        "s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0",
                    ])
                #expect(result.status != 0)
                #expect(try await eventually { server.log.errorCodes == [.handshakeFailed] })
                #expect(server.log.errors.first?.openSSLErrors.contains { $0.contains("unsupported protocol") } == true)
                try await expectServesAGoodClient(server, certificate: certificate)
            }
        }
    }

    @Test func plainHTTPOnTheTLSPortCostsOneConnection() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration) { server in
                _ = try await sendRaw(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"), to: server)
                #expect(try await eventually { server.log.errorCodes == [.handshakeFailed] })
                try await expectServesAGoodClient(server, certificate: certificate)
            }
        }
    }

    @Test func garbageCostsOneConnection() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration) { server in
                var generator = SystemRandomNumberGenerator()
                // A first byte that is no TLS record type, so the server cannot wait for a record that never comes.
                let garbage = [0x00] + (1..<4096).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                _ = try await sendRaw(ByteBuffer(bytes: garbage), to: server)
                #expect(try await eventually { server.log.errorCodes == [.handshakeFailed] })
                try await expectServesAGoodClient(server, certificate: certificate)
            }
        }
    }

    @Test func halfAClientHelloIsClosedByTheHandshakeTimeout() async throws {
        try await withTestCertificate { certificate in
            var configuration = certificate.serverConfiguration
            configuration.handshakeTimeout = .milliseconds(300)
            try await withTLSServer(configuration: configuration) { server in
                let client = try TLSConnection(
                    context: TLSContext(configuration: certificate.verifyingClientConfiguration))
                _ = client.handshake()
                let hello = try #require(client.takeCiphertext(allocator: ByteBufferAllocator()))
                let half = try #require(hello.getSlice(at: hello.readerIndex, length: hello.readableBytes / 2))

                let started = ContinuousClock.now
                let sentBack = try await sendRaw(half, to: server)
                let elapsed = ContinuousClock.now - started
                #expect(sentBack.readableBytes == 0)
                #expect(elapsed >= .milliseconds(250))
                #expect(try await eventually { server.log.errorCodes == [.handshakeTimeout] })
                try await expectServesAGoodClient(server, certificate: certificate)
            }
        }
    }

    @Test func clientCloseNotifyIsAnsweredAndClosesCleanly() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration) { server in
                let clientLog = TLSEventLog()
                let tls = try TLSContext(configuration: certificate.verifyingClientConfiguration)
                let channel = try await connect(port: server.port, tls: tls, log: clientLog)
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "hi"))
                    _ = try await read(2, from: inbound)
                }
                #expect(try await eventually { server.log.closedConnections == 1 })
                #expect(server.log.closeNotifies == 1)
                #expect(server.log.errors.isEmpty)
                #expect(clientLog.errors.isEmpty)
            }
        }
    }

    @Test func serverCloseNotifyIsAnsweredByTheClient() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration) { server in
                let clientLog = TLSEventLog()
                let tls = try TLSContext(configuration: certificate.verifyingClientConfiguration)
                let channel = try await connect(port: server.port, tls: tls, log: clientLog)
                let rest = try await withTimeout(.seconds(10)) {
                    try await channel.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(string: "close"))
                        return try await read(Int.max, from: inbound)
                    }
                }
                #expect(rest.readableBytes == 0)
                #expect(clientLog.closeNotifies == 1)
                #expect(clientLog.errors.isEmpty)
                #expect(try await eventually { server.log.closedConnections == 1 })
                #expect(server.log.errors.isEmpty)
            }
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func curlGetsAnHTTP11Response() async throws {
        try await withTestCertificate { certificate in
            try await withTLSServer(configuration: certificate.serverConfiguration, application: { HelloResponder() }) {
                server in
                let result = try await ExternalProcess.run(
                    "/usr/bin/curl",
                    [
                        "-sS", "--max-time", "10", "--cacert", certificate.certificatePath, "--http1.1",
                        "--resolve", "localhost:\(server.port):127.0.0.1", "https://localhost:\(server.port)/",
                    ])
                #expect(result.status == 0, "\(result.standardError)")
                #expect(result.standardOutput == "hello")
                #expect(server.log.sessions.first?.applicationProtocol == "http/1.1")
                #expect(try await eventually { server.log.closedConnections == 1 })
                #expect(server.log.errors.isEmpty)
            }
        }
    }
}
