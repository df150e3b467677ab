import Logging
import NIOCore
import Testing

@testable import Wire

extension LiveWireTests {
    @Suite("Client and pool against live servers")
    struct WireClientTests {
        @Test func tenThousandConcurrentRequestsMatchTheirAnswers() async throws {
            try await withTestServer { server in
                let client = testClient(ports: [server.port], connections: 3, timeout: .seconds(30))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for value in UInt64(0)..<10_000 {
                        group.addTask {
                            // Delays that vary with the value make answers come back in a different order than sent.
                            let answer = try await client.call(
                                Echo.self, Echo.Request(value: value, delayMillis: UInt32((value * 7919) % 23)))
                            #expect(answer.value == value)
                        }
                    }
                    try await group.waitForAll()
                }
                client.closeConnections()
            }
        }

        /// An answer larger than a frame may be is an error to its caller, not a frame that would cost the client its
        /// connection and every request on it; and a request larger than the server announced is refused unsent.
        @Test func framesOverTheLimitAreErrorsAndTheConnectionLivesOn() async throws {
            let limit = 4096
            try await withTestServer(
                configuration: WireServerConfiguration(serverName: "test", keys: testKeys, maxFrameLength: limit)
            ) { server in
                let client = testClient(ports: [server.port], connections: 1)
                // A request that just fits; its echo (the same text plus a trace id) does not.
                let overhead = WireFrameHeader.encodedSize + Echo.Request(value: 1, text: "").payload().readableBytes
                let text = String(repeating: "x", count: limit - overhead)
                #expect(
                    WireFrameHeader.encodedSize + Echo.Request(value: 1, text: text).payload().readableBytes == limit)
                await #expect {
                    try await client.call(Echo.self, Echo.Request(value: 1, text: text))
                } throws: { ($0 as? WireError)?.reason == "response_too_large" }
                await #expect {
                    try await client.call(Echo.self, Echo.Request(value: 2, text: text + "x"))
                } throws: { ($0 as? WireError)?.reason == WireError.frameTooLargeReason }
                let after = try await client.call(Echo.self, Echo.Request(value: 3))
                #expect(after.value == 3, "the connection still serves")
                client.closeConnections()
            }
        }

        @Test func answersArriveOutOfOrderOnOneConnection() async throws {
            try await withTestServer { server in
                let raw = try await RawConnection(port: server.port)
                _ = try #require(try await raw.handshake())
                for (requestID, delay) in [(UInt64(1), UInt32(300)), (2, 150), (3, 0)] {
                    let request = Echo.Request(value: requestID, delayMillis: delay)
                    try await raw.send(
                        WireFrame(
                            header: WireFrameHeader(kind: .request, requestID: requestID, method: Echo.id),
                            payload: request.payload()))
                }
                var order: [UInt64] = []
                for _ in 0..<3 {
                    order.append(try #require(try await raw.nextFrame()).header.requestID)
                }
                #expect(order == [3, 2, 1])
                await raw.close()
            }
        }

        @Test func clientDeadlineFailsTheCallWithDeadlineExceeded() async throws {
            try await withTestServer { server in
                let client = testClient(ports: [server.port])
                await #expect(throws: WireError.deadlineExceeded) {
                    try await client.call(
                        Echo.self, Echo.Request(value: 1, delayMillis: 2_000), timeout: .milliseconds(100))
                }
                // The connection is still good for the next call.
                let next = try await client.call(Echo.self, Echo.Request(value: 2))
                #expect(next.value == 2)
                client.closeConnections()
            }
        }

        @Test func serverEnforcesTheDeadlineInTheHeader() async throws {
            try await withTestServer { server in
                let raw = try await RawConnection(port: server.port)
                _ = try #require(try await raw.handshake())
                let header = WireFrameHeader(kind: .request, requestID: 9, method: Echo.id, timeoutMillis: 50)
                try await raw.send(
                    WireFrame(header: header, payload: Echo.Request(value: 9, delayMillis: 5_000).payload()))
                let answer = try #require(try await raw.nextFrame())
                #expect(answer.header.kind == .error && answer.header.requestID == 9)
                #expect(try WireErrorPayload(payload: answer.payload).error.code == .deadlineExceeded)
                await raw.close()
            }
        }

        @Test func traceIDTravelsToTheHandler() async throws {
            try await withTestServer { server in
                let client = testClient(ports: [server.port])
                let trace = WireTraceID(high: 0xABCD, low: 0x1234)
                let answer = try await WireTraceID.$current.withValue(trace) {
                    try await client.call(Echo.self, Echo.Request(value: 1))
                }
                #expect(answer.traceID == "\(trace)")
                #expect(WireTraceID(answer.traceID) == trace)
                client.closeConnections()
            }
        }

        @Test func unreachableEndpointFailsOverToTheOther() async throws {
            // Bind then stop a server to get a port where nothing listens.
            let deadPort = try await withTestServer { $0.port }
            try await withTestServer { server in
                let client = testClient(ports: [deadPort, server.port], connections: 1)
                for value in UInt64(0)..<20 {
                    let answer = try await client.call(Echo.self, Echo.Request(value: value))
                    #expect(answer.value == value)
                }
                client.closeConnections()
            }
        }

        @Test func stoppedInstanceFailsOverToTheOther() async throws {
            try await withTestServer { survivor in
                let victim = try await WireServer.bind(
                    configuration: WireServerConfiguration(serverName: "victim", keys: testKeys),
                    router: {
                        var router = WireRouter()
                        router.register(Echo.self) { request, _ in
                            Echo.Response(value: request.value, text: "victim", traceID: "")
                        }
                        return router
                    }(), logger: Logger(label: "victim")
                )
                let victimRun = Task { try await victim.run() }
                let client = testClient(ports: [victim.port, survivor.port], connections: 1)
                var served: Set<String> = []
                for value in UInt64(0)..<50 {
                    served.insert(try await client.call(Echo.self, Echo.Request(value: value)).text)
                }
                #expect(served.contains("victim"), "both instances take calls while both are up")

                victimRun.cancel()
                _ = await victimRun.result
                var failures = 0
                for value in UInt64(0)..<50 {
                    do {
                        let answer = try await client.call(Echo.self, Echo.Request(value: value))
                        #expect(answer.text != "victim")
                    } catch {
                        failures += 1
                    }
                }
                // Only calls already bound to the closing connection may fail; the rest go to the survivor.
                #expect(failures <= 1)
                client.closeConnections()
            }
        }

        @Test func noEndpointIsUnavailable() async throws {
            let deadPort = try await withTestServer { $0.port }
            let client = testClient(ports: [deadPort])
            do {
                _ = try await client.call(Echo.self, Echo.Request(value: 1))
                Issue.record("a call with no server succeeded")
            } catch {
                #expect(error.code == .unavailable)
            }
        }

        @Test func gracefulShutdownFinishesRequestsInFlight() async throws {
            try await withTestServer { server in
                let client = testClient(ports: [server.port], connections: 1)
                let first = try await client.call(Echo.self, Echo.Request(value: 0))
                #expect(first.value == 0)
                // The server counts the first request until just after its answer has left; wait for that.
                while server.inFlightRequests > 0 {
                    try await Task.sleep(for: .milliseconds(5))
                }
                async let slow = client.call(Echo.self, Echo.Request(value: 1, delayMillis: 400))
                while server.inFlightRequests == 0 {
                    try await Task.sleep(for: .milliseconds(5))
                }
                server.shutdownGracefully()
                let slowAnswer = try await slow
                #expect(slowAnswer.value == 1)
                await #expect(throws: WireError.self) {
                    try await client.call(Echo.self, Echo.Request(value: 2))
                }
                client.closeConnections()
            }
        }
    }
}
