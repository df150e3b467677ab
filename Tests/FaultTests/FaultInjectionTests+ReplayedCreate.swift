import Testing
import Wire

extension FaultInjectionTests {
    /// A tweet's create event delivered again after the tweet was deleted (as a relay that died between delivering
    /// and deleting the row would send it): the tombstone wins, and the tweet shows in no view and in no sorted set.
    @Test func aCreateEventReplayedAfterItsDeleteBringsNothingBack() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("replay")
            let reader = try await bench.api.signUp("replayr")
            try await bench.api.follow(author, as: reader)
            let kept = try await bench.api.tweet(TweetText.unique("kept"), as: author)
            try await bench.invariants([author, reader]).waitUntilHeld(api: bench.api)

            // With no TimelineService the create event stays in the outbox, where the test copies it.
            for service in bench.system.timelineServices {
                await service.stop()
            }
            let shard = TweeterID.shard(of: author.id)
            let (doomed, createEvent) = try await withFault(heal: {
                try await restartStopped(bench.system.timelineServices, of: bench.system)
            }) {
                let doomed = try await bench.api.tweet(TweetText.unique("deleted, then replayed"), as: author)
                let row = try await bench.store.outboxRows(shard: shard).first { row in
                    guard case .tweetCreated(let tweet, _) = try row.event().change else { return false }
                    return tweet.id == doomed
                }
                return (doomed, try #require(row, "the create event of \(doomed) waits in the outbox"))
            }
            #expect(
                try await poll(within: .seconds(30)) {
                    try await bench.api.page("/api/v1/timelines/home", as: reader).ids.contains(doomed)
                }, "the tweet reached the reader before its delete")
            try await bench.api.delete(doomed, as: author)
            let invariants = bench.invariants([author, reader], deleted: [doomed: author.id])
            try await invariants.waitUntilHeld(api: bench.api)

            let replayed = try await bench.store.replay(createEvent.payloadHex, shard: shard)
            try await invariants.waitUntilHeld(api: bench.api)
            #expect(
                !(try await bench.store.deadLetterIDs(shard: shard).contains(replayed)),
                "the replayed event was delivered, not dead-lettered")
            let profile = try await bench.api.page("/api/v1/users/\(author.id)/tweets").ids
            #expect(profile == [kept])
        }
    }
}
