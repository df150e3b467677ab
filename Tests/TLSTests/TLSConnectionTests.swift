import NIOCore
import TLSTestSupport
import Testing

@testable import TLS

/// Two ``TLSConnection``s talking through memory only: the record flow without any channel or socket.
@Suite("TLS connection over memory BIOs")
struct TLSConnectionTests {
    private struct Pair {
        let client: TLSConnection
        let server: TLSConnection

        init(client: TLSConfiguration, server: TLSConfiguration, serverName: String? = "localhost") throws {
            self.client = try TLSConnection(context: TLSContext(configuration: client), serverName: serverName)
            self.server = try TLSConnection(context: TLSContext(configuration: server))
        }

        /// Moves ciphertext both ways until neither side has any left.
        func pump() throws {
            var moved = true
            while moved {
                moved = false
                if let bytes = client.takeCiphertext(allocator: ByteBufferAllocator()) {
                    try server.receive(bytes)
                    moved = true
                }
                if let bytes = server.takeCiphertext(allocator: ByteBufferAllocator()) {
                    try client.receive(bytes)
                    moved = true
                }
            }
        }

        /// Runs both handshakes to an end: both sessions, or the first failure (client's or server's).
        func handshake() throws -> Result<(client: TLSSession, server: TLSSession), TLSError> {
            var clientSession: TLSSession?
            var serverSession: TLSSession?
            for _ in 0..<10 {
                if clientSession == nil {
                    switch client.handshake() {
                    case .complete(let session): clientSession = session
                    case .incomplete: break
                    case .failed(let error): return .failure(error)
                    }
                }
                try pump()
                if serverSession == nil {
                    switch server.handshake() {
                    case .complete(let session): serverSession = session
                    case .incomplete: break
                    case .failed(let error): return .failure(error)
                    }
                }
                try pump()
                if let clientSession, let serverSession {
                    return .success((clientSession, serverSession))
                }
            }
            throw TestFailure("handshake did not finish in 10 rounds")
        }
    }

    private static func readAll(_ connection: TLSConnection) -> (ByteBuffer, TLSConnection.ReadResult) {
        var plaintext = ByteBuffer()
        let result = connection.read(into: &plaintext)
        return (plaintext, result)
    }

    @Test func handshakeNegotiatesTLS13AndHTTP11() async throws {
        try await withTestCertificate { certificate in
            let pair = try Pair(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            let sessions = try pair.handshake().get()
            #expect(sessions.client == sessions.server)
            #expect(sessions.server.version == .v1_3)
            #expect(sessions.server.applicationProtocol == "http/1.1")
            #expect(sessions.server.cipherSuite.hasPrefix("TLS_"))
        }
    }

    @Test func plaintextCrossesBothWaysAndCloseNotifyEndsIt() async throws {
        try await withTestCertificate { certificate in
            let pair = try Pair(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            _ = try pair.handshake().get()
            let request = ByteBuffer(bytes: (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
            try pair.client.write(request)
            try pair.pump()
            let (received, readResult) = Self.readAll(pair.server)
            #expect(received == request)
            guard case .needsMoreCiphertext = readResult else {
                Issue.record("unexpected \(readResult)")
                return
            }

            try pair.server.write(ByteBuffer(string: "answer"))
            #expect(pair.client.shutdown())
            try pair.pump()
            let (answer, clientResult) = Self.readAll(pair.client)
            #expect(String(buffer: answer) == "answer")
            guard case .needsMoreCiphertext = clientResult else {
                Issue.record("unexpected \(clientResult)")
                return
            }

            let (_, serverResult) = Self.readAll(pair.server)
            guard case .closeNotify = serverResult else {
                Issue.record("expected close_notify, got \(serverResult)")
                return
            }
            #expect(pair.server.shutdown())
            try pair.pump()
            guard case .closeNotify = Self.readAll(pair.client).1 else {
                Issue.record("client missed close_notify")
                return
            }
        }
    }

    @Test func tls12ForcedByTheClientUsesECDHEWithAESGCM() async throws {
        try await withTestCertificate { certificate in
            var client = certificate.verifyingClientConfiguration
            client.maximumVersion = .v1_2
            let pair = try Pair(client: client, server: certificate.serverConfiguration)
            let session = try pair.handshake().get().server
            #expect(session.version == .v1_2)
            #expect(session.cipherSuite.hasPrefix("ECDHE-"))
            #expect(session.cipherSuite.contains("-GCM-"))
            #expect(session.applicationProtocol == "http/1.1")
        }
    }

    @Test func aServerLimitedToTLS13RefusesATLS12Client() async throws {
        try await withTestCertificate { certificate in
            var client = certificate.verifyingClientConfiguration
            client.maximumVersion = .v1_2
            var server = certificate.serverConfiguration
            server.minimumVersion = .v1_3
            let pair = try Pair(client: client, server: server)
            guard case .failure(let error) = try pair.handshake() else {
                Issue.record("handshake succeeded")
                return
            }
            #expect(error.code == .handshakeFailed)
            #expect(error.openSSLErrors.contains { $0.contains("unsupported protocol") || $0.contains("version") })
        }
    }

    @Test func aClientOfferingOnlyOtherProtocolsIsRefused() async throws {
        try await withTestCertificate { certificate in
            var client = certificate.verifyingClientConfiguration
            client.applicationProtocols = ["h2"]
            let pair = try Pair(client: client, server: certificate.serverConfiguration)
            guard case .failure(let error) = try pair.handshake() else {
                Issue.record("handshake succeeded")
                return
            }
            #expect(error.code == .handshakeFailed)
            #expect(!error.openSSLErrors.isEmpty)
            #expect(OpenSSLErrorQueue.drain().isEmpty, "the error queue must not outlive the failed call")
        }
    }

    @Test func aClientWithoutALPNStillConnects() async throws {
        try await withTestCertificate { certificate in
            var client = certificate.verifyingClientConfiguration
            client.applicationProtocols = []
            let pair = try Pair(client: client, server: certificate.serverConfiguration)
            let session = try pair.handshake().get().server
            #expect(session.applicationProtocol == nil)
        }
    }

    @Test func aVerifyingClientRefusesACertificateForAnotherName() async throws {
        try await withTestCertificate { certificate in
            let pair = try Pair(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration,
                serverName: "example.com")
            guard case .failure(let error) = try pair.handshake() else {
                Issue.record("handshake succeeded")
                return
            }
            #expect(error.code == .handshakeFailed)
            #expect(error.message.contains("peer certificate rejected"))
        }
    }

    @Test func aFailureLeavesNoErrorForTheNextConnectionOnTheThread() async throws {
        try await withTestCertificate { certificate in
            let broken = try TLSConnection(context: TLSContext(configuration: certificate.serverConfiguration))
            try broken.receive(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x00, 0x04, 99, 0x00, 0x00, 0x00]))
            guard case .failed = broken.handshake() else {
                Issue.record("broken record accepted")
                return
            }
            // Same thread, no await in between: a leftover error would fail this handshake or show up in its errors.
            let pair = try Pair(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            #expect(try pair.handshake().get().server.version == .v1_3)
            #expect(OpenSSLErrorQueue.drain().isEmpty)
        }
    }

    @Test func garbageInsteadOfAClientHelloFailsTheHandshake() async throws {
        try await withTestCertificate { certificate in
            let server = try TLSConnection(context: TLSContext(configuration: certificate.serverConfiguration))
            try server.receive(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))
            guard case .failed(let error) = server.handshake() else {
                Issue.record("garbage accepted")
                return
            }
            #expect(error.code == .handshakeFailed)
            #expect(!error.openSSLErrors.isEmpty)
            #expect(server.session == nil)
        }
    }
}
