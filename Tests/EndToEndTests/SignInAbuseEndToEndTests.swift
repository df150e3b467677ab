import Foundation
import HTTPTestSupport
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

extension EndToEnd {
    /// Sign-in under abuse, against the real processes with the production scrypt cost (N = 2^17, about 4 hashes a
    /// second on two threads).
    @Suite("End to end: sign-in abuse", .serialized)
    struct SignInAbuseEndToEndTests {
        /// Answers counted across the flood's connections.
        final class Tally: Sendable {
            let answered = Atomic<Int>(0)
            let statuses = Mutex<[Int: Int]>([:])

            func record(_ status: Int) {
                statuses.withLock { $0[status, default: 0] += 1 }
                answered.add(1, ordering: .relaxed)
            }
        }

        static let floodConnections = 20
        static let floodRequestsPerConnection = 100

        @Test func aFloodOfWrongPasswordsNeitherDelaysAnotherUserNorQueues() async throws {
            try await withSystem(tweetServiceArguments: ["--scrypt-log-n", "17"]) { system in
                let (victim, owner) = try await HTTPSConnection.with(
                    host: system.host, port: system.gatewayPort, tls: system.tls
                ) {
                    let api = TweeterAPI(connection: $0)
                    return (try await api.signUp("victim"), try await api.signUp("owner"))
                }
                let tally = Tally()
                let host = system.host
                let port = system.gatewayPort
                let tls = system.tls
                // Bounded, so that a Gateway that queues the flood fails this test in minutes instead of hours.
                let floodDeadline = ContinuousClock.now + .seconds(180)
                let flood = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<Self.floodConnections {
                            group.addTask {
                                try await HTTPSConnection.with(host: host, port: port, tls: tls) { connection in
                                    let api = TweeterAPI(connection: connection)
                                    for index in 0..<Self.floodRequestsPerConnection
                                    where ContinuousClock.now < floodDeadline {
                                        // Half against one user, half spread over names that may not exist.
                                        let username = index % 2 == 0 ? victim.username : TweeterAPI.uniqueName("guess")
                                        let reply = try await api.call(
                                            .POST, "/api/v1/sessions",
                                            json: #"{"username":"\#(username)","password":"wrong password \#(index)"}"#)
                                        tally.record(reply.status)
                                    }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                defer { flood.cancel() }
                let floodUnderWay = ContinuousClock.now + .seconds(60)
                while tally.answered.load(ordering: .relaxed) < 100 {
                    guard ContinuousClock.now < floodUnderWay else {
                        throw EndToEndFailure("the flood got fewer than 100 answers in 60 s")
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }

                // Another user, from another address, while the flood goes on.
                let during = try await HTTPSConnection.with(
                    host: host, port: port, tls: tls, sourceAddress: system.otherClientAddresses[0]
                ) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let health = try await api.call(.GET, "/healthz").status
                    let startedDuringFlood = tally.answered.load(ordering: .relaxed) < 2_000
                    let start = ContinuousClock.now
                    let signIn = try await api.call(
                        .POST, "/api/v1/sessions",
                        json: #"{"username":"\#(owner.username)","password":"correct horse"}"#)
                    let signInTime = ContinuousClock.now - start
                    let read = try await api.call(.GET, "/api/v1/users/\(owner.id)").status
                    let healthAgain = try await api.call(.GET, "/healthz").status
                    return (signIn, signInTime, [health, read, healthAgain], startedDuringFlood)
                }
                try await flood.value
                print("flood: \(tally.statuses.withLock { $0 }); the correct sign-in took \(during.1)")

                #expect(during.3, "the correct sign-in began while the flood was still being answered")
                #expect(during.0.status == 201, "\(String(buffer: during.0.body))")
                // Not a speed check: the hash queue admits work that waits at most 2 s, so an admitted sign-in is
                // answered within that plus its own hash, seconds on a loaded machine; one queued behind the flood's
                // 2,000 hashes (four a second) would take minutes.
                #expect(during.1 < .seconds(10), "the correct sign-in took \(during.1)")
                #expect(during.2 == [200, 200, 200], "health checks and reads are answered during the flood")

                let statuses = tally.statuses.withLock { $0 }
                let total = Self.floodConnections * Self.floodRequestsPerConnection
                #expect(statuses.values.reduce(0, +) == total, "every flood request was answered in time: \(statuses)")
                #expect(Set(statuses.keys).isSubset(of: [401, 429, 503]), "\(statuses)")
                // Only what the limits let through was hashed: the rest was refused at once, not queued.
                #expect(statuses[429, default: 0] + statuses[503, default: 0] >= total * 9 / 10, "\(statuses)")
            }
        }

        @Test func failedSignInsAreLimitedPerUsernameAndAddressAndASuccessElsewhereStillWorks() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let account = try await api.signUp("limited")
                    let wrong = #"{"username":"\#(account.username)","password":"not the password"}"#
                    let right = #"{"username":"\#(account.username)","password":"correct horse"}"#
                    for _ in 0..<10 {
                        expectError(try await api.call(.POST, "/api/v1/sessions", json: wrong), 401, "unauthorized")
                    }
                    let limited = try await api.call(.POST, "/api/v1/sessions", json: right)
                    expectError(limited, 429, "rate_limited")
                    #expect(limited.headers["Retry-After"].first.flatMap(Int.init).map { $0 >= 1 } == true)
                    // The owner, from another address, is not locked out.
                    let elsewhere = try await HTTPSConnection.with(
                        host: system.host, port: system.gatewayPort, tls: system.tls,
                        sourceAddress: system.otherClientAddresses[1]
                    ) { try await TweeterAPI(connection: $0).call(.POST, "/api/v1/sessions", json: right).status }
                    #expect(elsewhere == 201)
                }
            }
        }
    }
}
