import NIOCore
import Synchronization
import Testing
import Wire

@testable import Gateway

/// Token buckets, the rate limiter's memory bound and the token cache, on made-up clocks.
@Suite("Rate limiting and token cache")
struct ProtectionTests {
    private let start = ContinuousClock.now

    @Test func aBucketAllowsItsBurstThenRefillsAtItsRate() {
        var bucket = TokenBucket(capacity: 3, now: start)
        for _ in 0..<3 {
            #expect(bucket.take(rate: 2, capacity: 3, now: start) == .allowed)
        }
        #expect(bucket.take(rate: 2, capacity: 3, now: start) == .limited(retryAfterSeconds: 1))
        #expect(bucket.take(rate: 2, capacity: 3, now: start + .milliseconds(500)) == .allowed)
        #expect(bucket.take(rate: 2, capacity: 3, now: start + .milliseconds(500)) == .limited(retryAfterSeconds: 1))
        #expect(!bucket.isFull(rate: 2, capacity: 3, now: start + .seconds(1)))
        #expect(bucket.isFull(rate: 2, capacity: 3, now: start + .seconds(2)))
    }

    @Test func retryAfterIsWholeSecondsRoundedUp() {
        var bucket = TokenBucket(capacity: 1, now: start)
        _ = bucket.take(rate: 0.1, capacity: 1, now: start)
        #expect(bucket.take(rate: 0.1, capacity: 1, now: start) == .limited(retryAfterSeconds: 10))
        #expect(
            bucket.take(rate: 0.1, capacity: 1, now: start + .milliseconds(9_001)) == .limited(retryAfterSeconds: 1))
    }

    @Test func clientsAreLimitedSeparately() {
        let limiter = RateLimiter(configuration: RateLimiter.Configuration(requestsPerSecond: 1, burst: 1))
        #expect(limiter.admit(.address("a"), now: start) == .allowed)
        #expect(limiter.admit(.address("a"), now: start) != .allowed)
        #expect(limiter.admit(.address("b"), now: start) == .allowed)
        #expect(limiter.admit(.token("a"), now: start) == .allowed)
        let off = RateLimiter(configuration: RateLimiter.Configuration(requestsPerSecond: 0))
        for _ in 0..<1000 {
            #expect(off.admit(.address("a"), now: start) == .allowed)
        }
        #expect(off.trackedClients == 0)
    }

    @Test func theLimiterForgetsRefilledBucketsFirstAndStaysBounded() {
        let limiter = RateLimiter(
            configuration: RateLimiter.Configuration(requestsPerSecond: 1, burst: 2, maxClients: 100))
        for index in 0..<100 {
            _ = limiter.admit(.address("old\(index)"), now: start)
        }
        #expect(limiter.trackedClients == 100)
        // Ten seconds on every bucket has refilled: the next new client sweeps them all instead of evicting blindly.
        _ = limiter.admit(.address("busy"), now: start + .seconds(10))
        #expect(limiter.trackedClients == 1)
        for index in 0..<10_000 {
            _ = limiter.admit(.address("new\(index)"), now: start + .seconds(10))
            #expect(limiter.trackedClients <= 100)
        }
        #expect(limiter.trackedClients <= 100)
    }

    @Test func aFullTableDropsTheFullestBucketsAndKeepsALimitedClientLimited() {
        let limiter = RateLimiter(
            configuration: RateLimiter.Configuration(requestsPerSecond: 0.001, burst: 3, maxClients: 16))
        for _ in 0..<3 {
            _ = limiter.admit(.address("greedy"), now: start)
        }
        #expect(limiter.admit(.address("greedy"), now: start) != .allowed)
        // Hundreds of new clients, one request each: none of their buckets has refilled, so the table must drop some.
        for index in 0..<500 {
            _ = limiter.admit(.address("new\(index)"), now: start)
        }
        #expect(limiter.trackedClients <= 16)
        #expect(limiter.admit(.address("greedy"), now: start) != .allowed, "the empty bucket was kept, not reset")
    }

    @Test func boundedTablesSweepStaleEntriesBeforeDroppingOthers() {
        var table = BoundedTable<Int, Bool>(capacity: 8)
        for key in 0..<8 {
            table.insert(key % 2 == 0, for: key) { $0 }
        }
        table.insert(false, for: 100) { $0 }
        #expect(table.count == 5)
        #expect([1, 3, 5, 7, 100].allSatisfy { table[$0] != nil })
        for key in 200..<300 {
            table.insert(false, for: key) { $0 }
            #expect(table.count <= 8)
        }
    }

    @Test func theTokenCacheExpiresAndIsBounded() {
        let cache = TokenCache(configuration: TokenCache.Configuration(ttl: .seconds(5), maxEntries: 10))
        let alice = UserRecord(id: 1, username: "alice", createdAtMillis: 0)
        cache.store(alice, for: "t", now: start)
        #expect(cache.user(for: "t", now: start + .seconds(4)) == alice)
        #expect(cache.user(for: "t", now: start + .seconds(5)) == nil)
        #expect(cache.user(for: "other", now: start) == nil)
        for index in 0..<1000 {
            cache.store(alice, for: "token\(index)", now: start)
            #expect(cache.count <= 10)
        }
        let off = TokenCache(configuration: TokenCache.Configuration(ttl: .zero))
        off.store(alice, for: "t", now: start)
        #expect(off.user(for: "t", now: start) == nil)
    }

    @Test func theTokenCacheLivesAtMostFiveSecondsAndForgetsASignedOutToken() throws {
        #expect(throws: GatewayError.self) { try TokenCache.Configuration(ttl: .milliseconds(5_001)).validate() }
        try TokenCache.Configuration(ttl: .seconds(5)).validate()
        let cache = TokenCache(configuration: TokenCache.Configuration())
        let alice = UserRecord(id: 1, username: "alice", createdAtMillis: 0)
        cache.store(alice, for: "t", now: start)
        cache.store(alice, for: "u", now: start)
        cache.remove("t")
        #expect(cache.user(for: "t", now: start) == nil)
        #expect(cache.user(for: "u", now: start) == alice)
    }

    @Test func callersDuringACheckShareItsAnswerAndTheNextCallerChecksAgain() async {
        let runs = RunCounter()
        let callers = RunCounter()
        // The check answers only once all 100 callers have asked (and a moment more, for the last one to get from
        // counting itself into run()), so every caller arrives while it runs: exactly one check may run.
        let check = SharedCheck {
            runs.value.add(1, ordering: .relaxed)
            let everyoneAsked = ContinuousClock.now + .seconds(30)
            while callers.value.load(ordering: .relaxed) < 100, ContinuousClock.now < everyoneAsked {
                try? await Task.sleep(for: .milliseconds(5))
            }
            try? await Task.sleep(for: .milliseconds(200))
            return true
        }
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    callers.value.add(1, ordering: .relaxed)
                    return await check.run()
                }
            }
            for await answer in group {
                #expect(answer)
            }
        }
        #expect(runs.value.load(ordering: .relaxed) == 1, "100 concurrent callers shared one check")
        let before = runs.value.load(ordering: .relaxed)
        _ = await check.run()
        #expect(runs.value.load(ordering: .relaxed) == before + 1, "nothing is cached once a check has answered")
    }

    @Test func clientsAreIPv4AddressesAndIPv6Prefixes() throws {
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "192.0.2.7", port: 1)) == "192.0.2.7")
        let one = ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:1:2:aaaa::1", port: 1))
        let other = ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:1:2:bbbb:cccc:dddd:eeee", port: 1))
        #expect(one == "2001:db8:1:2::/64" && one == other, "one /64 is one client")
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "2001:db8:1:3::1", port: 1)) != one)
        #expect(ClientAddress.key(try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 1)) == "192.0.2.7")
        #expect(ClientAddress.key(nil) == "unknown")
    }
}

final class RunCounter: Sendable {
    let value = Atomic<Int>(0)
}
