import Foundation
import Gateway
import HTTPTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import Wire
import WireTestSupport

extension EndToEnd {
    /// The system's promises that need the whole of it: paging, fan-out, deletion everywhere, failover, and clients that
    /// misbehave at the TLS port.
    @Suite("End to end: the system", .serialized)
    struct SystemEndToEndTests {
        @Test func pagingThrough120TweetsNeverRepeatsOrSkips() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let author = try await api.signUp("pager")
                    var posted: [String] = []
                    for index in 0..<120 {
                        posted.append(try await api.tweet("tweet number \(index)", as: author))
                    }
                    let newestFirst = Array(posted.reversed())
                    #expect(
                        posted.map { Int64($0)! } == posted.map { Int64($0)! }.sorted(),
                        "ids increase with creation time")
                    #expect(try await api.allPages("/api/v1/users/\(author.id)/tweets?limit=7") == newestFirst)
                    #expect(try await api.allPages("/api/v1/users/\(author.id)/tweets?limit=200") == newestFirst)
                    let home = "/api/v1/timelines/home?limit=200"
                    #expect(
                        try await api.eventually(home, as: author) { $0.count >= 120 },
                        "fan-out to the author's own home")
                    #expect(try await api.allPages("/api/v1/timelines/home?limit=13", as: author) == newestFirst)

                    // since_id with a small limit: the newest of the window, and no next_max_id once the window is done.
                    let window = try await api.page("/api/v1/users/\(author.id)/tweets?since_id=\(posted[100])&limit=5")
                    #expect(window.ids == Array(newestFirst.prefix(5)))
                    #expect(window.nextMaxID == newestFirst[4])
                    let rest = try await api.allPages(
                        "/api/v1/users/\(author.id)/tweets?since_id=\(posted[100])&limit=5")
                    #expect(rest == Array(newestFirst.prefix(19)))
                    let last = try await api.page(
                        "/api/v1/users/\(author.id)/tweets?since_id=\(posted[100])&max_id=\(posted[102])&limit=5")
                    #expect(last.ids == [posted[101]])
                    #expect(last.nextMaxID == nil)
                }
            }
        }

        /// The services as they run across hosts: every Wire connection beneath mutual TLS from a private CA, on top of
        /// the service key. The whole path works, and a Wire client without TLS reaches no service.
        @Test func theSystemWorksWithMutualTLSOnEveryWireConnection() async throws {
            try await withSystem(wireTLS: true) { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let author = try await api.signUp("tlsa")
                    let reader = try await api.signUp("tlsr")
                    try await api.follow(author, as: reader)
                    let id = try await api.tweet("over mutual TLS", as: author)
                    #expect(try await api.eventually("/api/v1/timelines/home", as: reader) { $0.contains(id) })
                }
                for address in [system.tweetServiceAddress]
                    + system.timelineServiceAddresses.split(separator: ",").map(String.init)
                {
                    let endpoint = try #require(WireEndpoint(address))
                    let plain = try system.wireClient(endpoint, security: .some(nil))
                    defer { plain.closeConnections() }
                    let error = await #expect(throws: WireError.self) {
                        try await plain.call(HealthCheck.self, WireEmpty())
                    }
                    #expect(error?.code == .unavailable, "\(address) refuses plain TCP")
                    let secured = try system.wireClient(endpoint)
                    defer { secured.closeConnections() }
                    let health = try await secured.call(HealthCheck.self, WireEmpty())
                    #expect(!health.service.isEmpty, "\(address) answers beneath TLS")
                }
            }
        }

        @Test func aTweetReachesThreeFollowersAndADeletionLeavesEveryTimeline() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let author = try await api.signUp("author")
                    let stranger = try await api.signUp("stranger")
                    var followers: [Account] = []
                    for _ in 0..<3 {
                        let follower = try await api.signUp("reader")
                        try await api.follow(author, as: follower)
                        followers.append(follower)
                    }
                    let id = try await api.tweet("hello followers", as: author)
                    for follower in followers {
                        #expect(
                            try await api.eventually("/api/v1/timelines/home", as: follower) { $0.contains(id) },
                            "reaches \(follower.username)")
                    }
                    #expect(try await api.eventually("/api/v1/timelines/public?limit=200") { $0.contains(id) })
                    #expect(
                        !(try await api.page("/api/v1/timelines/home", as: stranger).ids.contains(id)),
                        "not followed, not delivered")

                    #expect(try await api.call(.DELETE, "/api/v1/tweets/\(id)", as: author).status == 204)
                    expectError(try await api.call(.GET, "/api/v1/tweets/\(id)"), 404, "not_found")
                    #expect(!(try await api.page("/api/v1/users/\(author.id)/tweets").ids.contains(id)))
                    for follower in followers {
                        #expect(
                            try await api.eventually("/api/v1/timelines/home", as: follower) { !$0.contains(id) },
                            "gone from \(follower.username)")
                    }
                    #expect(try await api.eventually("/api/v1/timelines/home", as: author) { !$0.contains(id) })
                    #expect(try await api.eventually("/api/v1/timelines/public?limit=200") { !$0.contains(id) })
                }
            }
        }

        @Test func theGatewayKeepsAnsweringWhenATimelineServiceDies() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let author = try await api.signUp("survivor")
                    let reader = try await api.signUp("watcher")
                    try await api.follow(author, as: reader)
                    let before = try await api.tweet("before the crash", as: author)
                    #expect(try await api.eventually("/api/v1/timelines/home", as: reader) { $0.contains(before) })

                    await system.timelineServices[0].crash()
                    for _ in 0..<30 {
                        let reply = try await api.call(.GET, "/api/v1/timelines/home", as: reader)
                        #expect(reply.status == 200, "\(String(buffer: reply.body))")
                        #expect(try await api.call(.GET, "/api/v1/timelines/public").status == 200)
                    }
                    #expect(try await api.call(.GET, "/readyz").status == 200)
                    let after = try await api.tweet("after the crash", as: author)
                    #expect(
                        try await api.eventually("/api/v1/timelines/home", as: reader) { $0.contains(after) },
                        "fan-out goes on through the survivor")

                    await system.timelineServices[1].crash()
                    expectError(try await api.call(.GET, "/api/v1/timelines/public"), 503, "unavailable")
                    // A page the Gateway did not read in the last 250 ms (its home page cache would answer that one).
                    expectError(
                        try await api.call(.GET, "/api/v1/timelines/home?limit=49", as: reader), 503, "unavailable")
                    expectError(try await api.call(.GET, "/readyz"), 503, "unavailable")
                    #expect(try await api.call(.GET, "/healthz").status == 200)
                    #expect(
                        try await api.call(.GET, "/api/v1/tweets/\(after)").status == 200,
                        "the store's routes still work")
                }
            }
        }

        @Test func garbageAndPlainHTTPOnTheTLSPortDoNotHarmTheNextClient() async throws {
            try await withSystem { system in
                let junk = [
                    "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
                    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                    String(repeating: "\u{16}\u{03}\u{01}\u{ff}\u{ff}", count: 500),
                ]
                for bytes in junk {
                    let raw = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(host: system.host, port: system.gatewayPort) { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                            }
                        }
                    try await raw.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(string: bytes))
                        var answer = ByteBuffer()
                        do {
                            for try await chunk in inbound {
                                answer.writeImmutableBuffer(chunk)
                            }
                        } catch {}
                        #expect(!String(buffer: answer).contains("HTTP/1.1 200"), "no plaintext answer on the TLS port")
                    }
                    try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                        connection in
                        let health = try await connection.send(.GET, "/healthz")
                        #expect(health.status == 200)
                    }
                }
                // A client that connects and says nothing must not hold up anyone else.
                let silent = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(
                    host: system.host, port: system.gatewayPort
                ).get()
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let health = try await connection.send(.GET, "/healthz")
                    #expect(health.status == 200)
                }
                try await silent.close()
                #expect(system.gateway.isRunning())
            }
        }

        @Test func oversizedBodiesAre413AndTheNextRequestWorks() async throws {
            try await withSystem { system in
                let big = ByteBuffer(repeating: UInt8(ascii: "x"), count: 65_537)
                for chunkSize in [nil, 8_192] {
                    try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                        connection in
                        let reply = try await connection.send(.POST, "/api/v1/tweets", body: big, chunkSize: chunkSize)
                        expectError(reply, 413, "payload_too_large")
                        #expect(await connection.closedCleanly(), "closed with close_notify, not a reset")
                    }
                }
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let alice = try await api.signUp("big")
                    let text = String(repeating: "a", count: 281)
                    expectError(
                        try await api.call(.POST, "/api/v1/tweets", as: alice, json: #"{"text":"\#(text)"}"#), 422,
                        "invalid_text")
                    #expect(try await api.call(.GET, "/healthz").status == 200)
                }
            }
        }

        /// The services have no HTTP listener: an operator reads their metrics over Wire with `tweet-service metrics`
        /// (`read_metrics`, served to the operator role), from the TweetService and from each TimelineService.
        @Test func anOperatorReadsEachServicesMetricsOverWire() async throws {
            try await withSystem { system in
                let services =
                    [(system.tweetServiceAddress, "tweet_service_outbox_events_delivered_total")]
                    + system.timelineServiceAddresses.split(separator: ",").map {
                        (String($0), "timeline_delivered_creations_applied_total")
                    }
                for (index, (address, metric)) in services.enumerated() {
                    let log = "\(system.directory)/metrics-\(index).out"
                    let tool = try ServiceProcess.start(
                        name: "metrics", executable: "\(system.binDirectory)/tweet-service",
                        arguments: ["metrics", "--endpoint", address, "--service-key-file", TestServiceKeys.file]
                            + system.wireTLSArguments,
                        logPath: log)
                    #expect(await tool.exitStatus(within: .seconds(30)) == 0, "\(tool.logTail())")
                    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                    #expect(output.contains("# TYPE \(metric) counter"), "\(address): \(output.prefix(300))")
                }
                // A wrong key is refused, and the command says so with a failing status.
                let wrongKey = "\(system.directory)/wrong.key"
                try String(repeating: "ab", count: 32).write(toFile: wrongKey, atomically: true, encoding: .utf8)
                chmod(wrongKey, 0o600)
                let refused = try ServiceProcess.start(
                    name: "metrics", executable: "\(system.binDirectory)/tweet-service",
                    arguments: ["metrics", "--endpoint", system.tweetServiceAddress, "--service-key-file", wrongKey]
                        + system.wireTLSArguments,
                    logPath: "\(system.directory)/metrics-refused.out")
                let status = await refused.exitStatus(within: .seconds(30))
                #expect(status != nil && status != 0, "a wrong key read the metrics: \(refused.logTail())")
                #expect(refused.logTail().contains("wrong_service_key"), "refused for the key: \(refused.logTail())")
            }
        }

        #if os(Linux)
            /// The executables link jemalloc on Linux (Package.swift, `serviceLinkerSettings`): a build that lost it would
            /// still work, only slower, so the mapping of every running service is checked.
            @Test func everyServiceAllocatesThroughJemalloc() async throws {
                try await withSystem { system in
                    for process in system.processes {
                        // Read to the end: a file of /proc has no size for `String(contentsOfFile:)` to go by.
                        let file = try #require(FileHandle(forReadingAtPath: "/proc/\(process.pid)/maps"))
                        let maps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
                        #expect(maps.contains("/libjemalloc.so"), "\(process.name) runs without jemalloc")
                    }
                }
            }
        #endif
    }
}
