import Testing
import Wire

extension FaultInjectionTests {
    /// One shard's `tweets` table locked (`ACCESS EXCLUSIVE`) for 30 seconds: posts by that shard's user are refused
    /// with 503 (`unavailable`) rather than left hanging, none of them is stored later (no 503-then-commit), and users
    /// on another shard of the same server and on the other server tweet on as usual.
    @Test func aLockedShardRefusesItsWritesAndSparesEveryOtherShard() async throws {
        try await withSystem { bench in
            let store = bench.store
            let victim = try await bench.api.signUp("locked")
            let shard = TweeterID.shard(of: victim.id)
            let server = store.server(of: victim.id)
            let neighbour = try await bench.api.signUp(username: store.username("nextdoor", onServer: server))
            let distant = try await bench.api.signUp(username: store.username("faraway", onServer: 1 - server))
            #expect(TweeterID.shard(of: neighbour.id) != shard)
            let reader = try await bench.api.signUp("lockr")
            for author in [victim, neighbour, distant] {
                try await bench.api.follow(author, as: reader)
                _ = try await bench.api.tweet(TweetText.unique("before the lock"), as: author)
            }
            let users = [victim, neighbour, distant, reader]
            try await bench.invariants(users).waitUntilHeld(api: bench.api)

            let lock = try await store.lockTweets(ofShard: shard, atMost: .seconds(60))
            var refusedTexts: [String] = []
            try await withFault(heal: { await lock.release() }) {
                let end = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < end {
                    let text = TweetText.unique("refused")
                    let refused = try await bench.api.post(text, as: victim)
                    #expect(refused.isUnavailable, "a post into the locked table: \(refused.summary)")
                    refusedTexts.append(text)
                    for author in [neighbour, distant] {
                        let reply = try await bench.api.post(TweetText.unique("beside the lock"), as: author)
                        #expect(reply.status == 201, "\(author.username) is not held up: \(reply.summary)")
                    }
                }
            }
            #expect(refusedTexts.count >= 5)
            let after = try await bench.api.tweet(TweetText.unique("after the lock"), as: victim)
            try await bench.invariants(users).waitUntilHeld(api: bench.api)
            let stored = try await store.storedTexts(of: victim.id, among: refusedTexts)
            #expect(stored.isEmpty, "refused posts committed after all: \(stored.sorted())")
            #expect(try await bench.api.page("/api/v1/users/\(victim.id)/tweets").ids.first == after)
        }
    }
}
