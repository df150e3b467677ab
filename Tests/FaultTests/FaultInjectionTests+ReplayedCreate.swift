import Testing
import Wire

extension FaultInjectionTests {
    /// A tweet's create event delivered again after the tweet was deleted: the tombstone wins, and the tweet shows in
    /// no view and in no sorted set. Both ways it can come back are tried: the outbox row (a reference to the tweet)
    /// claimed again, as a relay that died after delivering and before deleting would leave it, which is sent as
    /// nothing since the tweet is gone; and the encoded event itself arriving again at the TimelineService, as a
    /// replay of its queue would bring it.
    @Test func aCreateEventReplayedAfterItsDeleteBringsNothingBack() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("replay")
            let reader = try await bench.api.signUp("replayr")
            try await bench.api.follow(author, as: reader)
            let kept = try await bench.api.tweet(TweetText.unique("kept"), as: author)
            try await bench.invariants([author, reader]).waitUntilHeld(api: bench.api)

            // With no TimelineService the create event stays in the outbox, where the test finds it.
            for service in bench.system.timelineServices {
                await service.stop()
            }
            let shard = TweeterID.shard(of: author.id)
            let doomedText = TweetText.unique("deleted, then replayed")
            let doomed = try await withFault(heal: {
                try await restartStopped(bench.system.timelineServices, of: bench.system)
            }) {
                let doomed = try await bench.api.tweet(doomedText, as: author)
                let row = try await bench.store.outboxRows(shard: shard).first { $0.tweetID == doomed }
                #expect(row != nil, "the create event of \(doomed) waits in the outbox")
                return doomed
            }
            #expect(
                try await poll(within: .seconds(30)) {
                    try await bench.api.page("/api/v1/timelines/home", as: reader).ids.contains(doomed)
                }, "the tweet reached the reader before its delete")
            try await bench.api.delete(doomed, as: author)
            let invariants = bench.invariants([author, reader], deleted: [doomed: author.id])
            try await invariants.waitUntilHeld(api: bench.api)

            let reference = try await bench.store.replayReference(toTweet: doomed, by: author.username)
            #expect(
                try await poll(within: .seconds(30)) {
                    !(try await bench.store.outboxHolds(row: reference, shard: shard))
                },
                "the relay took the replayed reference out of the outbox")
            let tweet = TweetRecord(
                id: doomed, userID: author.id, username: author.username, text: doomedText,
                createdAtMillis: TweeterID.unixMillis(of: doomed), inReplyToID: nil)
            let replayed = try await bench.store.replay(.tweetCreated(tweet, authorFollowers: 1), shard: shard)
            try await invariants.waitUntilHeld(api: bench.api)
            let deadLetters = try await bench.store.deadLetterIDs(shard: shard)
            #expect(
                !deadLetters.contains(replayed) && !deadLetters.contains(reference),
                "the replayed events were delivered, not dead-lettered")
            let profile = try await bench.api.page("/api/v1/users/\(author.id)/tweets").ids
            #expect(profile == [kept])
        }
    }
}
