import Foundation
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

/// The authenticated handshake against live servers: a peer must prove it holds the service key before anything
/// else is read, a proof is good for one connection only, and each method is served to its roles only.
@Suite("Peer authentication")
struct WireAuthenticationTests {
    private static let otherKeys = WireServiceKeys.generate()

    /// Pins the proof's construction; the expected values were computed independently with Python's `hmac` module.
    @Test func proofsMatchKnownAnswers() {
        let key = Array(UInt8(0)..<32)
        let clientNonce = ByteBuffer(repeating: 0xAA, count: 32)
        let serverNonce = ByteBuffer(repeating: 0xBB, count: 32)
        let client = HandshakeProof.proof(
            .client, key: key, clientNonce: clientNonce, serverNonce: serverNonce, role: "gateway")
        let server = HandshakeProof.proof(
            .server, key: key, clientNonce: clientNonce, serverNonce: serverNonce, role: "gateway")
        #expect(client.hex == "f027632f40e5249c5c7e0140ebaa316bc2cc16d0e3cabf61ffd4e713f6255fad")
        #expect(server.hex == "48859b0bbea495a553d97ece9e77c44f8e18301a7fc580beabbdc77cc5835e23")
    }

    @Test func theRightKeyIsServed() async throws {
        try await withTestServer { server in
            let client = testClient(ports: [server.port])
            let answer = try await client.call(Echo.self, Echo.Request(value: 5))
            #expect(answer.value == 5)
            client.closeConnections()
        }
    }

    @Test func aClientWithTheWrongKeyIsRefused() async throws {
        try await withTestServer { server in
            let client = testClient(ports: [server.port], keys: Self.otherKeys)
            let error = await #expect(throws: WireError.self) {
                try await client.call(Echo.self, Echo.Request(value: 1))
            }
            #expect(error?.code == .unauthenticated)
            #expect(error?.reason == "wrong_service_key")
            client.closeConnections()

            let raw = try await RawConnection(port: server.port)
            #expect(try await raw.handshake(keys: Self.otherKeys) == nil)
            try await expectClosed(raw)
        }
    }

    /// A request sent without the proof is not read, let alone served: the connection ends with `proof_missing`.
    @Test func aRequestInsteadOfTheProofIsRefusedUnread() async throws {
        try await withTestServer { server in
            let raw = try await RawConnection(port: server.port)
            _ = try #require(try await raw.hello(role: "gateway", nonce: HandshakeProof.makeNonce()))
            try await raw.send(
                WireFrame(
                    header: WireFrameHeader(kind: .request, requestID: 1, method: Echo.id),
                    payload: Echo.Request(value: 1).payload()))
            let answer = try #require(try await raw.nextFrame())
            #expect(answer.header.kind == .error && answer.header.requestID == 0)
            #expect(try WireErrorPayload(payload: answer.payload).error.reason == "proof_missing")
            #expect(try await raw.nextFrame() == nil, "no answer to the request, and the connection closed")
        }
    }

    /// A proof recorded from one connection, replayed with the same hello on another, fails: the server's nonce is
    /// new on every connection.
    @Test func aReplayedHandshakeIsRefused() async throws {
        try await withTestServer { server in
            let nonce = HandshakeProof.makeNonce()
            let first = try await RawConnection(port: server.port)
            let challenge = try #require(try await first.hello(role: "gateway", nonce: nonce))
            let recorded = HandshakeProof.proof(
                .client, key: testKeys.current, clientNonce: nonce, serverNonce: challenge.nonce, role: "gateway"
            )
            #expect(try await first.authenticate(proof: recorded)?.header.kind == .helloAck)
            await first.close()

            let replay = try await RawConnection(port: server.port)
            let second = try #require(try await replay.hello(role: "gateway", nonce: nonce))
            #expect(second.nonce != challenge.nonce)
            let answer = try #require(try await replay.authenticate(proof: recorded))
            #expect(answer.header.kind == .error)
            #expect(try WireErrorPayload(payload: answer.payload).error.reason == "wrong_service_key")
            try await expectClosed(replay)
        }
    }

    @Test func aRoleThatMayNotCallAMethodIsRefusedIt() async throws {
        try await withTestServer { server in
            let timelines = testClient(ports: [server.port], role: .timelineService)
            let error = await #expect(throws: WireError.self) {
                try await timelines.call(Echo.self, Echo.Request(value: 1))
            }
            #expect(error?.code == .permissionDenied)
            #expect(error?.reason == "role_not_allowed")
            let health = try await timelines.call(HealthCheck.self, WireEmpty())
            #expect(health.service == "test", "health checks serve every role")
            timelines.closeConnections()
        }
    }

    @Test func anUnknownRoleIsRefused() async throws {
        try await withTestServer { server in
            let raw = try await RawConnection(port: server.port)
            try await raw.send(
                WireFrame(
                    header: WireFrameHeader(kind: .hello),
                    payload: WireHello(role: "root", nonce: HandshakeProof.makeNonce()).payload())
            )
            let answer = try #require(try await raw.nextFrame())
            #expect(try WireErrorPayload(payload: answer.payload).error.reason == "unknown_role")
            try await expectClosed(raw)
        }
    }

    /// The steps of `WireServiceKeys`' rotation: at each one, every pair of processes still connects.
    @Test func keysRotateWithoutAGap() async throws {
        let old = testKeys.current
        let new = Self.otherKeys.current
        let steps: [(server: WireServiceKeys, client: WireServiceKeys)] = [
            (try WireServiceKeys(current: old, previous: new), try WireServiceKeys(current: old)),  // new added
            // swapped:
            (try WireServiceKeys(current: old, previous: new), try WireServiceKeys(current: new, previous: old)),
            (try WireServiceKeys(current: new, previous: old), try WireServiceKeys(current: old, previous: new)),
            (try WireServiceKeys(current: new), try WireServiceKeys(current: new, previous: old)),  // old removed
        ]
        for (index, step) in steps.enumerated() {
            try await withTestServer(configuration: WireServerConfiguration(serverName: "rotating", keys: step.server))
            { server in
                let client = testClient(ports: [server.port], keys: step.client)
                let answer = try await client.call(Echo.self, Echo.Request(value: UInt64(index)))
                #expect(answer.value == UInt64(index), "step \(index)")
                client.closeConnections()
            }
        }
        // Skipping a step breaks the pair: a server with only the old key refuses a client that proves with the new.
        try await withTestServer(
            configuration: WireServerConfiguration(serverName: "stale", keys: try WireServiceKeys(current: old))
        ) { server in
            let client = testClient(ports: [server.port], keys: try WireServiceKeys(current: new, previous: old))
            await #expect(throws: WireError.self) { try await client.call(Echo.self, Echo.Request(value: 1)) }
            client.closeConnections()
        }
    }

    /// The client checks the server's proof too: a server without the key cannot pose as one.
    @Test func aServerThatCannotProveItselfIsRefused() throws {
        let channel = EmbeddedChannel()
        let completion = channel.eventLoop.makePromise(of: WireHelloAck.self)
        try channel.pipeline.syncOperations.addHandlers(
            FramesAsBytes(),
            WireClientHandler(
                handshake: ClientHandshake(role: .gateway, keys: testKeys), completion: completion,
                state: WireClientConnectionState(), logger: Logger(label: "test")
            )
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let server = try EmbeddedServerHandshake(channel: channel, keys: Self.otherKeys)
        try server.acknowledge(maxInFlightRequests: 8, provingWith: Self.otherKeys.current)
        let error = #expect(throws: WireError.self) { try completion.futureResult.wait() }
        #expect(error?.reason == "server_not_authenticated")
        #expect(!channel.isActive, "the client closes the connection")
    }

    @Test func keyFilesAreParsedStrictly() throws {
        let key = String(repeating: "ab", count: 32)
        let other = String(repeating: "cd", count: 32)
        #expect(try WireServiceKeys(fileContents: "# comment\n\(key)\n").previous == nil)
        let rotating = try WireServiceKeys(fileContents: "\(key)\n\n\(other)\n")
        #expect(
            rotating.current == Array(repeating: 0xAB, count: 32)
                && rotating.previous == Array(repeating: 0xCD, count: 32))
        for bad in ["", "\(key)\n\(other)\n\(key)", String(repeating: "ab", count: 31), "zz" + key.dropFirst(2)] {
            #expect(throws: WireError.self, "\(bad.prefix(10))") { try WireServiceKeys(fileContents: bad) }
        }
    }

    @Test func aKeyFileOthersCanReadIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wire-key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(String(repeating: "ab", count: 32).utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let error = #expect(throws: WireError.self) { try WireServiceKeys.load(path: path) }
        #expect(error?.message.contains("chmod 600") == true)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try WireServiceKeys.load(path: path).current == Array(repeating: 0xAB, count: 32))
    }

    /// A flood of refused handshakes is one log line per interval, each line counting the ones it held back.
    @Test func refusalsAreLoggedAtMostOncePerInterval() {
        let lines = CapturedLog()
        let logger = Logger(label: "refusals") { _ in lines }
        let log = HandshakeRefusalLog(interval: .seconds(1))
        let start = ContinuousClock.now
        let refusal = WireError(.unauthenticated, reason: "wrong_service_key", "no")
        for offset in 0..<5 {
            log.record(refusal, peer: "127.0.0.1:\(offset)", logger: logger, now: start + .milliseconds(offset * 10))
        }
        #expect(lines.entries.count == 1)
        #expect(lines.entries.first?["peer"] == "127.0.0.1:0")
        log.record(refusal, peer: "127.0.0.1:9", logger: logger, now: start + .seconds(2))
        #expect(lines.entries.count == 2)
        #expect(lines.entries.last?["refusals_not_logged"] == "4")
    }

    private func expectClosed(_ raw: RawConnection) async throws {
        while let frame = try await raw.nextFrame() {
            #expect(frame.header.kind == .error, "nothing but the refusal before the close")
        }
    }
}
