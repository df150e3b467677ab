import Synchronization
import Testing
import Wire
import WireTestSupport

@testable import TweetService

extension StoreTests {
    /// Tweet creation held back while the fan-out is behind, against the real PostgreSQL servers: a held creation is
    /// stored once it goes ahead, a refused one (too many waiting) stores nothing, and a delay that cannot be read
    /// holds nothing back.
    @Suite("Fan-out backpressure")
    struct FanOutBackpressureLiveTests {
        /// What the stand-in TimelineService answers for the fan-out's delay; nil: the call fails.
        final class StandInDelay: Sendable {
            let value = Mutex<Duration?>(.seconds(5))

            func read() throws -> Duration {
                guard let delay = value.withLock({ $0 }) else { throw WireError(.unavailable, "no timeline service") }
                return delay
            }
        }

        @Test func heldCreationsAreStoredAndRefusedOnesAreNot() async throws {
            let delay = StandInDelay()
            // Readings stay fresh for 4 s, longer than the 100 ms a held creation waits, so that the test decides
            // when a reading is taken (no polling loop runs).
            let held = FanOutBackpressure(
                configuration: FanOutBackpressure.Configuration(
                    delayLimit: .milliseconds(500), pollInterval: .seconds(1), maxWait: .milliseconds(100)),
                logger: TestStore.logger
            ) { try delay.read() }
            try await withTweetService(backpressure: held) { client in
                let author = try await makeUsers(1, client: client)[0]
                _ = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "before any reading"))
                await held.readIfAsked()
                #expect(held.holdsBack)
                let started = ContinuousClock.now
                _ = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "held, then stored"))
                #expect(ContinuousClock.now - started >= .milliseconds(100), "held for its whole wait")
                #expect(try await tweetCount(of: author.id, client: client) == 2)
            }

            let backpressure = FanOutBackpressure(
                configuration: FanOutBackpressure.Configuration(
                    delayLimit: .milliseconds(500), pollInterval: .seconds(1), maxWait: .milliseconds(100),
                    maxWaiting: 0),
                logger: TestStore.logger
            ) { try delay.read() }
            try await withTweetService(backpressure: backpressure) { client in
                let author = try await makeUsers(1, client: client)[0]
                _ = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "before any reading"))

                await backpressure.readIfAsked()
                #expect(backpressure.holdsBack)
                #expect(
                    await wireOutcome {
                        try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "refused"))
                    } == "resource_exhausted/fan_out_behind")
                #expect(try await tweetCount(of: author.id, client: client) == 1, "the refused tweet was not stored")

                delay.value.withLock { $0 = .milliseconds(20) }
                await backpressure.readIfAsked()
                _ = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "caught up"))

                delay.value.withLock { $0 = .seconds(5) }
                await backpressure.readIfAsked()
                #expect(backpressure.holdsBack)
                delay.value.withLock { $0 = nil }
                await backpressure.readIfAsked()
                #expect(!backpressure.holdsBack, "a delay that cannot be read holds nothing back")
                _ = try await client.call(CreateTweet.self, NewTweet(authorID: author.id, text: "monitor down"))
                #expect(try await tweetCount(of: author.id, client: client) == 3)
            }
        }

        @Test func aCreationThatCannotStartStoringInTimeStoresNothing() async throws {
            try await withTweetService { client in
                let author = try await makeUsers(1, client: client)[0]
                let store = TweetStore(database: try await TestStore.migrated())
                #expect(
                    await wireOutcome {
                        try await store.create(
                            NewTweet(authorID: author.id, text: "too late"), storeBy: ContinuousClock.now - .seconds(1))
                    } == "unavailable/too_late")
                #expect(try await tweetCount(of: author.id, client: client) == 0)
            }
        }

        private func tweetCount(of userID: Int64, client: AnyRoleClient) async throws -> Int64 {
            try await client.call(GetUsers.self, IDList(ids: [userID])).users.first?.tweetsCount ?? -1
        }
    }
}
