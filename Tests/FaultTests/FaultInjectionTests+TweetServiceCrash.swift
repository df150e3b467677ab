import Testing
import Wire

extension FaultInjectionTests {
    /// The TweetService killed with SIGKILL the moment the last of a burst of tweets was acknowledged (201), so that
    /// events are still in the outboxes, then started again: its relay delivers what the dead one left, and every
    /// acknowledged tweet (and an acknowledged delete) reaches every view.
    @Test func theTweetServiceKilledRightAfterAcknowledgingABurstLosesNothing() async throws {
        try await withSystem { bench in
            let authors = [
                try await bench.api.signUp("burst"), try await bench.api.signUp("burst"),
                try await bench.api.signUp("burst"),
            ]
            let readers = [try await bench.api.signUp("burstr"), try await bench.api.signUp("burstr")]
            for reader in readers {
                for author in authors {
                    try await bench.api.follow(author, as: reader)
                }
            }
            let doomed = try await bench.api.tweet(TweetText.unique("deleted before the burst"), as: authors[0])
            try await bench.api.delete(doomed, as: authors[0])

            // Three connections post 20 tweets each at once; the kill follows the last 201 at once.
            let system = bench.system
            let posted = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for author in authors {
                    group.addTask {
                        try await system.withAPI { api in
                            var ids: [Int64] = []
                            for index in 0..<20 {
                                ids.append(try await api.tweet(TweetText.unique("burst \(index)"), as: author))
                            }
                            return ids
                        }
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0 += $1 }
            }
            await bench.system.tweetService.crash()
            let undelivered = try await bench.store.nonEmptyOutboxes().values.reduce(0, +)
            print("outbox rows left by the killed TweetService: \(undelivered)")
            try await bench.system.restart(bench.system.tweetService)

            #expect(posted.count == 60)
            try await bench.invariants(authors + readers, deleted: [doomed: authors[0].id])
                .waitUntilHeld(api: bench.api)
            let stored = Set(try await bench.store.tweets(of: authors.map(\.id)).values.joined())
            #expect(Set(posted).isSubset(of: stored), "every acknowledged tweet is in PostgreSQL")
        }
    }
}
