import Foundation
import HTTPTestSupport
import NIOCore
import NIOHTTP1
import TLS
import TLSTestSupport
import Testing

@testable import Gateway

/// The Gateway on a real socket with TLS: keep-alive, limits, and clients that misbehave.
@Suite("Gateway on live sockets", .serialized)
struct GatewayLiveTests {
    /// Runs the Gateway over TLS with `certificate` on an ephemeral port, in front of stand-in services.
    private func withLiveGateway<T: Sendable>(
        certificate: TestCertificate,
        configure: @escaping (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (_ port: Int, _ client: TLSContext) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let client = try TLSContext(configuration: certificate.verifyingClientConfiguration)
        let overTLS: (inout GatewayConfiguration) -> Void = { configuration in
            configuration.transport = .tls(
                certificateChainPath: certificate.certificatePath, privateKeyPath: certificate.keyPath)
            configure(&configuration)
        }
        let listening: @Sendable (Int) async -> Void = { continuation.yield($0) }
        return try await GatewayHarness.with(configure: overTLS, onListening: listening) { harness in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await harness.gateway.run() }
                defer { group.cancelAll() }
                guard let port = await ports.first(where: { _ in true }) else {
                    throw TestFailure("the gateway did not listen")
                }
                return try await withTimeout(.seconds(60)) { try await body(port, client) }
            }
        }
    }

    @Test func servesManyRequestsOnOneTLSConnection() async throws {
        try await withTestCertificate { certificate in
            try await withLiveGateway(certificate: certificate) { port, tls in
                try await HTTPSConnection.with(port: port, tls: tls) { connection in
                    #expect(try await connection.send(.GET, "/healthz").status == 200)
                    let body = ByteBuffer(string: #"{"username":"alice","password":"password123"}"#)
                    let created = try await connection.send(.POST, "/api/v1/users", body: body)
                    #expect(created.status == 201)
                    #expect(created.headers["Content-Type"].first == "application/json")
                    #expect(created.headers["X-Request-Id"].first?.count == 32)
                    let session = try await connection.send(.POST, "/api/v1/sessions", body: body)
                    let token = try #require(try session.jsonObject()["token"] as? String)
                    let tweet = ByteBuffer(string: #"{"text":"over TLS"}"#)
                    let auth = [("Authorization", "Bearer \(token)")]
                    #expect(
                        try await connection.send(.POST, "/api/v1/tweets", headers: auth, body: tweet, chunkSize: 4)
                            .status == 201)
                    let home = try await connection.send(.GET, "/api/v1/timelines/home", headers: auth)
                    #expect(home.status == 200)
                    #expect(
                        try (home.jsonObject()["tweets"] as? [[String: Any]])?.first?["text"] as? String == "over TLS")
                    #expect(try await connection.send(.GET, "/api/v1/nowhere").errorCode == "not_found")
                }
            }
        }
    }

    @Test func oversizedBodiesAre413AndTheConnectionClosesCleanly() async throws {
        try await withTestCertificate { certificate in
            try await withLiveGateway(certificate: certificate) { port, tls in
                let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 200_000)
                for chunkSize in [nil, 16_384] {
                    try await HTTPSConnection.with(port: port, tls: tls) { connection in
                        let reply = try await connection.send(.POST, "/api/v1/users", body: big, chunkSize: chunkSize)
                        #expect(reply.status == 413)
                        #expect(reply.errorCode == "payload_too_large")
                        #expect(reply.headers["Connection"].first == "close")
                        #expect(await connection.closedCleanly())
                    }
                }
                let exactly = ByteBuffer(repeating: UInt8(ascii: " "), count: 65_536)
                try await HTTPSConnection.with(port: port, tls: tls) { connection in
                    // 64 KiB of spaces is not a JSON object, but it is not too large either; the connection stays.
                    let sized = try await connection.send(.POST, "/api/v1/users", body: exactly)
                    let chunked = try await connection.send(.POST, "/api/v1/users", body: exactly, chunkSize: 1000)
                    let health = try await connection.send(.GET, "/healthz")
                    #expect(sized.errorCode == "bad_request")
                    #expect(chunked.errorCode == "bad_request")
                    #expect(health.status == 200)
                }
            }
        }
    }

    @Test func garbageAndPlainHTTPOnTheTLSPortCostOneConnection() async throws {
        try await withTestCertificate { certificate in
            try await withLiveGateway(certificate: certificate) { port, tls in
                for bytes in [
                    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "\u{16}\u{3}\u{1}\u{0}\u{5}garbage-garbage",
                    String(repeating: "\u{0}", count: 4096),
                ] {
                    let raw = try await connect(port: port, tls: nil)
                    try await withTimeout(.seconds(15)) {
                        try await raw.executeThenClose { inbound, outbound in
                            try await outbound.write(ByteBuffer(string: bytes))
                            do {
                                for try await _ in inbound {}
                            } catch let error as IOError where error.errnoCode == ECONNRESET {}
                        }
                    }
                    try await HTTPSConnection.with(port: port, tls: tls) { connection in
                        let health = try await connection.send(.GET, "/healthz")
                        #expect(health.status == 200)
                    }
                }
            }
        }
    }

    @Test func oversizedHeadersEndTheConnectionOnly() async throws {
        try await withTestCertificate { certificate in
            try await withLiveGateway(certificate: certificate) { port, tls in
                try await HTTPSConnection.with(port: port, tls: tls) { connection in
                    let reply = try await connection.send(
                        .GET, "/healthz", headers: [("X-Big", String(repeating: "h", count: 20_000))])
                    #expect(reply.status == 400)
                    #expect(reply.errorCode == "bad_request", "a JSON error, like every other answer")
                    #expect(reply.headers["Content-Type"].first == "application/json")
                    #expect(reply.headers["X-Request-Id"].first?.isEmpty == false)
                    _ = await connection.closedCleanly()
                }
                try await HTTPSConnection.with(port: port, tls: tls) { connection in
                    let health = try await connection.send(.GET, "/healthz")
                    #expect(health.status == 200)
                }
            }
        }
    }

    /// A request that never finishes arriving is cut off by the read timeout (1 s), long before the idle timeout
    /// (60 s) could have closed the connection.
    @Test func aRequestThatNeverFinishesArrivingIsClosedByTheReadTimeout() async throws {
        try await withTestCertificate { certificate in
            let limits: (inout GatewayConfiguration) -> Void = {
                $0.limits.requestReadTimeout = .seconds(1)
                $0.limits.idleTimeout = .seconds(60)
            }
            try await withLiveGateway(certificate: certificate, configure: limits) { port, tls in
                let raw = try await connect(port: port, tls: tls)
                let start = ContinuousClock.now
                try await raw.executeThenClose { inbound, outbound in
                    try await outbound.write(
                        ByteBuffer(string: "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"))
                    do {
                        for try await _ in inbound {}
                    } catch {}
                }
                #expect(
                    ContinuousClock.now - start < .seconds(30), "closed by the 1 s read timeout, not the 60 s idle one")
            }
        }
    }

    /// A connection that sits idle after an answer is closed by the idle timeout (1 s), long before the read timeout
    /// (60 s) could have: the Gateway closes it (with close_notify), the client does not.
    @Test(.timeLimit(.minutes(1))) func anIdleConnectionIsClosedByTheIdleTimeout() async throws {
        try await withTestCertificate { certificate in
            let limits: (inout GatewayConfiguration) -> Void = {
                $0.limits.requestReadTimeout = .seconds(60)
                $0.limits.idleTimeout = .seconds(1)
            }
            try await withLiveGateway(certificate: certificate, configure: limits) { port, tls in
                try await HTTPSConnection.with(port: port, tls: tls) { connection in
                    let status = try await connection.send(.GET, "/healthz").status
                    #expect(status == 200)
                    let start = ContinuousClock.now
                    let closedCleanly = await connection.closedCleanly()
                    #expect(closedCleanly, "the Gateway closed the idle connection with close_notify")
                    #expect(
                        ContinuousClock.now - start < .seconds(30), "by the 1 s idle timeout, not the 60 s read one")
                }
            }
        }
    }

    @Test func aClientThatStopsReadingLosesTheConnection() async throws {
        try await withTestCertificate { certificate in
            let limits: (inout GatewayConfiguration) -> Void = {
                $0.limits.responseWriteTimeout = .seconds(1)
                $0.limits.idleTimeout = .seconds(60)
            }
            try await withLiveGateway(certificate: certificate, configure: limits) { port, tls in
                let raw = try await connect(port: port, tls: tls)
                try await raw.executeThenClose { inbound, outbound in
                    // Thousands of pipelined requests, and no reading: the answers fill the socket buffers and the
                    // Gateway's write stalls.
                    try await outbound.write(
                        ByteBuffer(string: String(repeating: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", count: 4_000)))
                    try await Task.sleep(for: .seconds(4))
                    // Without a write deadline the client would now read every answer and the connection would stay
                    // open for the 60 s idle timeout; with it, the Gateway has already closed.
                    let start = ContinuousClock.now
                    do {
                        for try await _ in inbound {}
                    } catch {}
                    #expect(ContinuousClock.now - start < .seconds(20))
                }
                let status = try await HTTPSConnection.with(port: port, tls: tls) { connection in
                    try await connection.send(.GET, "/healthz").status
                }
                #expect(status == 200, "the next client is served")
            }
        }
    }

    @Test func anAddressOverItsConnectionLimitIsRefusedUntilOneCloses() async throws {
        try await withTestCertificate { certificate in
            try await withLiveGateway(certificate: certificate, configure: { $0.limits.maxConnectionsPerAddress = 2 }) {
                port, tls in
                try await HTTPSConnection.with(port: port, tls: tls) { first in
                    let firstStatus = try await first.send(.GET, "/healthz").status
                    #expect(firstStatus == 200)
                    try await HTTPSConnection.with(port: port, tls: tls) { second in
                        let secondStatus = try await second.send(.GET, "/healthz").status
                        #expect(secondStatus == 200)
                        let third = try? await HTTPSConnection.with(port: port, tls: tls) {
                            try await $0.send(.GET, "/healthz").status
                        }
                        #expect(third == nil, "a third connection from 127.0.0.1 is closed before its handshake")
                        let again = try await second.send(.GET, "/healthz").status
                        #expect(again == 200, "the others go on")
                    }
                    // The second's slot comes free once the Gateway has seen it close.
                    var status: Int?
                    for _ in 0..<50 where status == nil {
                        status = try? await HTTPSConnection.with(port: port, tls: tls) {
                            try await $0.send(.GET, "/healthz").status
                        }
                        if status == nil { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(status == 200)
                }
            }
        }
    }

    @Test func connectionsOverTheLimitWaitForOneToClose() async throws {
        try await withTestCertificate { certificate in
            try await withLiveGateway(certificate: certificate, configure: { $0.limits.maxConnections = 1 }) {
                port, tls in
                try await HTTPSConnection.with(port: port, tls: tls) { first in
                    #expect(try await first.send(.GET, "/healthz").status == 200)
                    let secondAnswered = RunCounter()
                    let waiting = Task {
                        try await HTTPSConnection.with(port: port, tls: tls) { second in
                            let status = try await second.send(.GET, "/healthz").status
                            secondAnswered.value.add(1, ordering: .relaxed)
                            return status
                        }
                    }
                    // Without the limit the second connection would be served at once; with it, it waits.
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(
                        secondAnswered.value.load(ordering: .relaxed) == 0,
                        "the second connection waits while the first is open")
                    #expect(try await first.send(.GET, "/healthz", headers: [("Connection", "close")]).status == 200)
                    #expect(try await waiting.value == 200)
                }
            }
        }
    }
}
