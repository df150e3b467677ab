import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import Wire

@testable import Gateway

@Suite("Home page cache")
struct HomePageCacheTests {
    private let start = ContinuousClock.now
    private let page = ByteBuffer(string: #"{"tweets":[],"next_max_id":null}"#)

    @Test func aPageLivesALifetimeFromWhenItsReadWasSentNotFromWhenItWasStored() {
        let cache = HomePageCache(configuration: HomePageCache.Configuration())
        let query = TimelineQuery(userID: 1, limit: 50)
        cache.store(page, for: query, readSentAt: start, now: start + .milliseconds(200))
        #expect(cache.page(for: query, now: start + .milliseconds(249)) == page)
        #expect(cache.page(for: query, now: start + HomePageCache.lifetime) == nil)
        // A read answered a lifetime after it was sent may hold what a delete since then removed: not kept.
        let slow = TimelineQuery(userID: 2, limit: 50)
        cache.store(page, for: slow, readSentAt: start, now: start + HomePageCache.lifetime)
        #expect(cache.page(for: slow, now: start + HomePageCache.lifetime) == nil)
    }

    @Test func pagesAreKeptPerUserAndBoundsAndForgottenOnTheirOwnersWrite() {
        let cache = HomePageCache(configuration: HomePageCache.Configuration())
        let first = TimelineQuery(userID: 1, limit: 50)
        let next = TimelineQuery(userID: 1, limit: 50, maxID: 99)
        let other = TimelineQuery(userID: 2, limit: 50)
        cache.store(page, for: first, readSentAt: start, now: start)
        #expect(cache.page(for: next, now: start) == nil)
        #expect(cache.page(for: other, now: start) == nil)
        #expect(cache.page(for: TimelineQuery(userID: 1, limit: 20), now: start) == nil)
        cache.store(page, for: next, readSentAt: start, now: start)
        cache.store(page, for: other, readSentAt: start, now: start)
        #expect(cache.page(for: first, now: start) == page)
        #expect(cache.page(for: next, now: start) == page)
        cache.forget(userID: 1)
        #expect(cache.page(for: first, now: start) == nil)
        #expect(cache.page(for: next, now: start) == nil)
        #expect(cache.page(for: other, now: start) == page)
    }

    @Test func memoryIsBoundedByUsersPagesPerUserAndPageSize() {
        let cache = HomePageCache(configuration: HomePageCache.Configuration(maxUsers: 10, maxPageBytes: 100))
        for maxID in Int64(1)...5 {
            cache.store(page, for: TimelineQuery(userID: 1, limit: 50, maxID: maxID), readSentAt: start, now: start)
        }
        #expect(cache.count == HomePageCache.pagesPerUser)
        #expect(cache.page(for: TimelineQuery(userID: 1, limit: 50, maxID: 5), now: start) == page)
        #expect(cache.page(for: TimelineQuery(userID: 1, limit: 50, maxID: 1), now: start) == nil)
        for userID in Int64(2)...1000 {
            cache.store(page, for: TimelineQuery(userID: userID, limit: 50), readSentAt: start, now: start)
            #expect(cache.count <= 10 * HomePageCache.pagesPerUser)
        }
        let large = ByteBuffer(repeating: UInt8(ascii: " "), count: 101)
        cache.store(large, for: TimelineQuery(userID: 5000, limit: 50), readSentAt: start, now: start)
        #expect(cache.page(for: TimelineQuery(userID: 5000, limit: 50), now: start) == nil)

        let off = HomePageCache(configuration: HomePageCache.Configuration(maxUsers: 0))
        off.store(page, for: TimelineQuery(userID: 1, limit: 50), readSentAt: start, now: start)
        #expect(off.page(for: TimelineQuery(userID: 1, limit: 50), now: start) == nil)
        #expect(throws: GatewayError.self) { try HomePageCache.Configuration(maxUsers: -1).validate() }
    }

    /// Through the routes: the same page again is one read of the TimelineService; another page, another user or the
    /// owner's own tweet are not answered from the cache.
    @Test(arguments: ClientPath.allCases)
    func aRepeatedHomeReadIsAnsweredWithoutTheTimelineServiceUntilItsOwnerWrites(path: ClientPath) async throws {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
                let api = APIClient(client: client)
                let (_, alice) = try await api.signUp("alice")
                let (_, bob) = try await api.signUp("bob")
                let before = try await api.tweet("before", token: alice)
                let services = harness.services
                let reads = { services.homeReads.load(ordering: .relaxed) }
                let (first, again, serviceReads) = try await Self.readTwiceWithinALifetime(
                    "/api/v1/timelines/home", token: alice, api: api, reads: reads)
                #expect(serviceReads == 1)
                #expect(again.body == first.body)
                #expect(try again.tweets().compactMap { $0["id"] as? String } == [before])

                var counted = reads()
                _ = try await api.call(.get, "/api/v1/timelines/home?limit=10", token: alice)
                _ = try await api.call(.get, "/api/v1/timelines/home", token: bob)
                #expect(reads() == counted + 2)

                let after = try await api.tweet("after", token: alice)
                counted = reads()
                let fresh = try await api.call(.get, "/api/v1/timelines/home", token: alice)
                #expect(reads() == counted + 1)
                #expect(try fresh.tweets().compactMap { $0["id"] as? String } == [after, before])
            }
        }
    }

    /// Reads `uri` twice in a row and returns both answers and how many reads of the TimelineService they made. On a
    /// busy machine two requests can be more than a lifetime apart, so a pair that took longer is tried again with a
    /// page of its own (a `limit` one smaller each time, never cached yet; at most 20 pairs, the last one returned
    /// whatever it took).
    private static func readTwiceWithinALifetime(
        _ uri: String, token: String, api: APIClient, reads: () -> Int
    ) async throws -> (first: TestResponse, again: TestResponse, serviceReads: Int) {
        var pair: (first: TestResponse, again: TestResponse, serviceReads: Int)?
        for attempt in 0..<20 {
            let page = attempt == 0 ? uri : "\(uri)?limit=\(50 - attempt)"
            let counted = reads()
            let start = ContinuousClock.now
            let first = try await api.call(.get, page, token: token)
            let again = try await api.call(.get, page, token: token)
            pair = (first, again, reads() - counted)
            if ContinuousClock.now - start < HomePageCache.lifetime { break }
        }
        return try #require(pair)
    }
}
