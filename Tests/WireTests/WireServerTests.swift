import Logging
import NIOCore
import Testing

@testable import Wire

/// Tests against live servers on 127.0.0.1, one at a time: the 10,000-request test would otherwise starve the others
/// of the machine's two cores.
@Suite(.serialized) enum LiveWireTests {}

extension LiveWireTests {
    /// A live server fed malformed input by raw connections; after each, a good client must still be served.
    @Suite("Server against malformed peers")
    struct WireServerTests {
        private func expectGoodClientStillServed(port: Int) async throws {
            let client = testClient(ports: [port])
            let answer = try await client.call(Echo.self, Echo.Request(value: 99, text: "still here"))
            #expect(answer.value == 99)
            client.closeConnections()
        }

        private func expectConnectionError(_ connection: RawConnection, reason: String) async throws {
            let frame = try #require(try await connection.nextFrame())
            #expect(frame.header.kind == .error)
            #expect(frame.header.requestID == 0)
            #expect(try WireErrorPayload(payload: frame.payload).error.reason == reason)
            #expect(try await connection.nextFrame() == nil, "the server must close the connection")
        }

        @Test func handshakeAnswersWithLimits() async throws {
            try await withTestServer(
                configuration: WireServerConfiguration(
                    serverName: "limits", keys: testKeys, maxInFlightRequestsPerConnection: 7)
            ) { server in
                let raw = try await RawConnection(port: server.port)
                let ack = try #require(try await raw.handshake())
                #expect(ack.version == WireFrameHeader.currentVersion && ack.serverName == "limits")
                #expect(ack.maxFrameLength == UInt32(WireFrame.defaultMaxLength) && ack.maxInFlightRequests == 7)
                await raw.close()
            }
        }

        @Test func requestBeforeHelloClosesTheConnection() async throws {
            try await withTestServer { server in
                let raw = try await RawConnection(port: server.port)
                try await raw.send(WireFrame(header: WireFrameHeader(kind: .request, requestID: 1, method: Echo.id)))
                try await expectConnectionError(raw, reason: "handshake_required")
                try await expectGoodClientStillServed(port: server.port)
            }
        }

        @Test func oversizedFrameClosesTheConnectionBeforeItArrives() async throws {
            try await withTestServer(
                configuration: WireServerConfiguration(serverName: "small", keys: testKeys, maxFrameLength: 4096)
            ) { server in
                let raw = try await RawConnection(port: server.port)
                _ = try #require(try await raw.handshake())
                // Only the length prefix of a 1 GiB frame is sent: the server must refuse it from the prefix alone.
                try await raw.send(bytes("40000000"))
                try await expectConnectionError(raw, reason: "frame_too_large")
                try await expectGoodClientStillServed(port: server.port)
            }
        }

        @Test(arguments: [
            (
                "00000022 02 63 0000 0000000000000001 0000 00000000 0000000000000000 0000000000000000",
                "unknown_frame_kind"
            ),
            ("00000010 02 03 0000 0000000000000001", "frame_too_short"),
            (
                "00000022 07 03 0000 0000000000000001 0000 00000000 0000000000000000 0000000000000000",
                "unsupported_version"
            ),
            (
                "00000022 02 04 0000 0000000000000001 0000 00000000 0000000000000000 0000000000000000",
                "unexpected_frame"
            ),
        ])
        func brokenFrameAfterHandshakeClosesOnlyThatConnection(hex: String, reason: String) async throws {
            try await withTestServer { server in
                let raw = try await RawConnection(port: server.port)
                _ = try #require(try await raw.handshake())
                try await raw.send(bytes(hex))
                try await expectConnectionError(raw, reason: reason)
                try await expectGoodClientStillServed(port: server.port)
            }
        }

        @Test func malformedPayloadIsAnErrorForThatRequestOnly() async throws {
            try await withTestServer { server in
                let raw = try await RawConnection(port: server.port)
                _ = try #require(try await raw.handshake())
                let cases: [(UInt64, String, String)] = [
                    (1, "000000000000002a 00000000 00000005 6869", "truncated"),
                    (2, "000000000000002a 00000000 00000002 c328", "invalid_utf8"),
                    (3, "0000", "truncated"),
                ]
                for (requestID, payload, _) in cases {
                    try await raw.send(
                        WireFrame(
                            header: WireFrameHeader(kind: .request, requestID: requestID, method: Echo.id),
                            payload: bytes(payload)))
                }
                try await raw.send(
                    WireFrame(
                        header: WireFrameHeader(kind: .request, requestID: 4, method: WireMethodID(rawValue: 999))))
                var reasons: [UInt64: String] = [:]
                for _ in 0..<4 {
                    let frame = try #require(try await raw.nextFrame())
                    #expect(frame.header.kind == .error)
                    reasons[frame.header.requestID] = try WireErrorPayload(payload: frame.payload).error.reason
                }
                #expect(reasons == [1: "truncated", 2: "invalid_utf8", 3: "truncated", 4: "unknown_method"])
                // The same connection still serves a good request.
                try await raw.send(
                    WireFrame(
                        header: WireFrameHeader(kind: .request, requestID: 5, method: Echo.id),
                        payload: Echo.Request(value: 5).payload()))
                let good = try #require(try await raw.nextFrame())
                #expect(good.header.kind == .response && good.header.requestID == 5)
                await raw.close()
            }
        }

        @Test func pingIsAnsweredWithTheSamePayload() async throws {
            try await withTestServer { server in
                let raw = try await RawConnection(port: server.port)
                _ = try #require(try await raw.handshake())
                try await raw.send(
                    WireFrame(header: WireFrameHeader(kind: .ping, requestID: 77), payload: bytes("cafe")))
                let pong = try #require(try await raw.nextFrame())
                #expect(pong.header.kind == .pong && pong.header.requestID == 77 && pong.payload.hex == "cafe")
                await raw.close()
            }
        }

        @Test func requestsOverTheInFlightLimitAreShed() async throws {
            try await withTestServer(
                configuration: WireServerConfiguration(
                    serverName: "tight", keys: testKeys, maxInFlightRequestsPerConnection: 2)
            ) { server in
                let raw = try await RawConnection(port: server.port)
                _ = try #require(try await raw.handshake())
                for requestID in UInt64(1)...3 {
                    let slow = Echo.Request(value: requestID, delayMillis: 300)
                    try await raw.send(
                        WireFrame(
                            header: WireFrameHeader(kind: .request, requestID: requestID, method: Echo.id),
                            payload: slow.payload()))
                }
                let shed = try #require(try await raw.nextFrame())
                #expect(shed.header.requestID == 3)
                #expect(try WireErrorPayload(payload: shed.payload).error.code == .resourceExhausted)
                let first = try #require(try await raw.nextFrame())
                let second = try #require(try await raw.nextFrame())
                #expect(Set([first.header.requestID, second.header.requestID]) == [1, 2])
                await raw.close()
            }
        }

        /// Cancelling `run()` while connections keep arriving closes every one of them (each accepted connection is an
        /// async channel that must be run to its close; dropping one used to stop the process) and returns.
        @Test func cancellingTheServerWhileConnectionsArriveClosesThemAll() async throws {
            for _ in 0..<5 {
                var router = WireRouter()
                router.registerHealthCheck(service: "busy")
                let server = try await WireServer.bind(
                    configuration: WireServerConfiguration(serverName: "busy", keys: testKeys), router: router,
                    logger: Logger(label: "busy")
                )
                let running = Task { try await server.run() }
                let arrivals = Task {
                    var opened: [RawConnection] = []
                    while !Task.isCancelled, let connection = try? await RawConnection(port: server.port) {
                        opened.append(connection)
                    }
                    for connection in opened {
                        await connection.close()
                    }
                }
                try await Task.sleep(for: .milliseconds(50))
                running.cancel()
                _ = await running.result
                arrivals.cancel()
                await arrivals.value
            }
        }

        /// A connection over the server's limit is closed at once, and the server (and the connection it serves) go on.
        @Test func connectionsOverTheLimitAreClosedAndTheServerGoesOn() async throws {
            try await withTestServer(
                configuration: WireServerConfiguration(serverName: "full", keys: testKeys, maxConnections: 1)
            ) { server in
                let first = try await RawConnection(port: server.port)
                _ = try #require(try await first.handshake())
                let second = try await RawConnection(port: server.port)
                #expect(try await second.nextFrame() == nil, "closed without a word")
                try await first.send(
                    WireFrame(
                        header: WireFrameHeader(kind: .request, requestID: 1, method: Echo.id),
                        payload: Echo.Request(value: 7).payload()))
                let answer = try #require(try await first.nextFrame())
                #expect(answer.header.kind == .response && answer.header.requestID == 1)
                await first.close()
            }
        }

        @Test func silentPeerIsClosedAfterTheHandshakeTimeout() async throws {
            try await withTestServer(
                configuration: WireServerConfiguration(
                    serverName: "t", keys: testKeys, handshakeTimeout: .milliseconds(200))
            ) { server in
                let raw = try await RawConnection(port: server.port)
                #expect(try await raw.nextFrame() == nil)
            }
        }

        @Test func handlerErrorsKeepTheirCodeAndReason() async throws {
            try await withTestServer { server in
                let client = testClient(ports: [server.port])
                await #expect(throws: WireError(.notFound, reason: "no_such_thing", "nothing here")) {
                    try await client.call(AlwaysNotFound.self, WireEmpty())
                }
                client.closeConnections()
            }
        }
    }
}
