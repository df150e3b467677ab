import NIOCore
import NIOEmbedded
import TLSTestSupport
import Testing

@testable import TLS

/// The handler between two `EmbeddedChannel`s: every step is driven by hand, time included.
///
/// The tests are async only to make a certificate; everything after that runs on one thread, as
/// `EmbeddedEventLoop` requires.
@Suite("TLS handler in embedded channels")
struct TLSHandlerTests {
    private struct Link {
        let client: EmbeddedChannel
        let server: EmbeddedChannel
        let clientHandler: TLSHandler
        let clientLog = TLSEventLog()
        let serverLog = TLSEventLog()

        init(client clientConfiguration: TLSConfiguration, server serverConfiguration: TLSConfiguration) throws {
            clientHandler = TLSHandler(
                context: try TLSContext(configuration: clientConfiguration), serverName: "localhost")
            client = EmbeddedChannel()
            try client.pipeline.syncOperations.addHandlers([clientHandler, TLSEventRecorder(log: clientLog)])
            server = EmbeddedChannel()
            let serverHandler = TLSHandler(context: try TLSContext(configuration: serverConfiguration))
            try server.pipeline.syncOperations.addHandlers([serverHandler, TLSEventRecorder(log: serverLog)])
        }

        func connect() throws {
            try connectServer()
            client.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 443), promise: nil)
        }

        func connectServer() throws {
            server.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 443), promise: nil)
        }

        /// Carries ciphertext both ways until neither side writes any more (or one side is closed).
        func pump() throws {
            var moved = true
            while moved {
                moved = false
                while let bytes = try client.readOutbound(as: ByteBuffer.self) {
                    if server.isActive { try server.writeInbound(bytes) }
                    moved = true
                }
                while let bytes = try server.readOutbound(as: ByteBuffer.self) {
                    if client.isActive { try client.writeInbound(bytes) }
                    moved = true
                }
            }
        }

        func plaintext(at channel: EmbeddedChannel) throws -> String {
            var text = ""
            while let buffer = try channel.readInbound(as: ByteBuffer.self) {
                text += String(buffer: buffer)
            }
            return text
        }
    }

    /// The result of a future that an `EmbeddedChannel` completed already; `nil` while it is still pending.
    private func outcome<T>(of future: EventLoopFuture<T>) -> Result<T, any Error>? {
        var result: Result<T, any Error>?
        future.assumeIsolated().whenComplete { result = $0 }
        return result
    }

    private func succeeded(_ future: EventLoopFuture<Void>) -> Bool {
        if case .success = outcome(of: future) { true } else { false }
    }

    @Test func writesBeforeTheHandshakeAreSentAfterIt() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connect()
            let written = link.client.writeAndFlush(ByteBuffer(string: "early"))
            #expect(link.clientHandler.session == nil)
            try link.pump()

            #expect(succeeded(written))
            #expect(try link.plaintext(at: link.server) == "early")
            #expect(link.clientHandler.session?.version == .v1_3)
            #expect(link.clientHandler.session?.applicationProtocol == "http/1.1")
            #expect(link.clientLog.sessions == link.serverLog.sessions)
            #expect(link.serverLog.sessions.count == 1)
        }
    }

    @Test func writesBeforeAFlushLeaveAsOneBufferAndTheirPromisesFollowIt() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connect()
            try link.pump()
            let head = link.client.write(ByteBuffer(string: "head "))
            let body = link.client.write(ByteBuffer(string: "body"))
            #expect(try link.client.readOutbound(as: ByteBuffer.self) == nil)  // nothing leaves before the flush
            #expect(outcome(of: head) == nil)
            link.client.flush()
            let records = try #require(try link.client.readOutbound(as: ByteBuffer.self))
            #expect(try link.client.readOutbound(as: ByteBuffer.self) == nil)
            #expect(succeeded(head) && succeeded(body))
            try link.server.writeInbound(records)
            link.client.write(ByteBuffer(string: ", last words"), promise: nil)
            link.client.close(promise: nil)  // written before close_notify, so sent, not lost
            try link.pump()
            #expect(try link.plaintext(at: link.server) == "head body, last words")
        }
    }

    @Test func writesOverTheBufferLimitFailBeforeTheHandshake() async throws {
        try await withTestCertificate { certificate in
            var client = certificate.verifyingClientConfiguration
            client.maxBufferedPlaintext = 8
            let link = try Link(client: client, server: certificate.serverConfiguration)
            try link.connect()
            let fits = link.client.write(ByteBuffer(string: "12345678"))
            let overflows = link.client.writeAndFlush(ByteBuffer(string: "9"))
            try link.pump()
            #expect(succeeded(fits))
            let error = try #require(throws: TLSError.self) { try outcome(of: overflows)?.get() }
            #expect(error.code == .writeBufferFull)
            #expect(try link.plaintext(at: link.server) == "12345678")
        }
    }

    @Test func aStalledHandshakeIsClosedByTheTimeout() async throws {
        try await withTestCertificate { certificate in
            var server = certificate.serverConfiguration
            server.handshakeTimeout = .milliseconds(300)
            let link = try Link(client: certificate.verifyingClientConfiguration, server: server)
            try link.connectServer()
            link.server.embeddedEventLoop.advanceTime(by: .milliseconds(299))
            #expect(link.server.isActive)
            link.server.embeddedEventLoop.advanceTime(by: .milliseconds(1))
            #expect(link.serverLog.errorCodes == [.handshakeTimeout])
            #expect(!link.server.isActive)
        }
    }

    @Test func garbageClosesTheChannel() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connectServer()
            let garbage = ByteBuffer(bytes: [0x00] + (1..<200).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            // The error that closes the channel reaches the end of the pipeline, where EmbeddedChannel rethrows it.
            #expect(throws: TLSError.self) { try link.server.writeInbound(garbage) }
            #expect(link.serverLog.errorCodes == [.handshakeFailed])
            #expect(!link.server.isActive)
        }
    }

    @Test func aBrokenHandshakeRecordIsAnsweredWithAnAlertBeforeClosing() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connectServer()
            // A handshake record holding a message of unknown type 99 where a ClientHello must be.
            let record = ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x00, 0x04, 99, 0x00, 0x00, 0x00])
            #expect(throws: TLSError.self) { try link.server.writeInbound(record) }
            #expect(link.serverLog.errorCodes == [.handshakeFailed])
            #expect(!link.server.isActive)
            let alert = try #require(try link.server.readOutbound(as: ByteBuffer.self))
            #expect(alert.getInteger(at: alert.readerIndex, as: UInt8.self) == 21, "a TLS alert record")
        }
    }

    @Test func closeSendsCloseNotifyAndThePeerAnswersAndCloses() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connect()
            try link.pump()
            let closed = link.client.close()
            #expect(!link.client.isActive)
            try link.pump()
            #expect(succeeded(closed))
            #expect(link.serverLog.closeNotifies == 1)
            #expect(!link.server.isActive)
            #expect(link.serverLog.errors.isEmpty)
            #expect(link.clientLog.errors.isEmpty)
        }
    }

    @Test func closingOutputSendsCloseNotify() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connect()
            try link.pump()
            let closed = link.client.close(mode: .output)
            try link.pump()
            #expect(succeeded(closed))
            #expect(link.serverLog.closeNotifies == 1)
            #expect(link.serverLog.errors.isEmpty)
        }
    }

    @Test func aTCPHalfCloseWithoutCloseNotifyIsAnUnexpectedEOF() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connect()
            try link.pump()
            link.server.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            #expect(link.serverLog.errorCodes == [.unexpectedEOF])
            #expect(!link.server.isActive)
        }
    }

    @Test func writesAfterCloseFail() async throws {
        try await withTestCertificate { certificate in
            let link = try Link(
                client: certificate.verifyingClientConfiguration, server: certificate.serverConfiguration)
            try link.connect()
            try link.pump()
            link.client.close(promise: nil)
            #expect(throws: ChannelError.self) {
                try outcome(of: link.client.writeAndFlush(ByteBuffer(string: "late")))?.get()
            }
        }
    }
}
