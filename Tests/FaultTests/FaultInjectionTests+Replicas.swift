import Testing

extension FaultInjectionTests {
    /// The replica of the first PostgreSQL server stopped while tweets of an author with 20,000 followers on that
    /// server fan out: the follower pages move to the primary (counted by the TweetService), no request fails, every
    /// tweet reaches every sampled follower's home, and the invariants hold.
    @Test func aReplicaStoppedDuringFanOutMovesItsReadsToThePrimaryAndLosesNothing() async throws {
        try await withSystem { bench in
            let replicas = ReplicaProbe(tweetServicePort: bench.system.tweetServicePort)
            let author = try await bench.api.signUp(username: bench.store.username("repa", onServer: 0))
            let readers = [try await bench.api.signUp("repr"), try await bench.api.signUp("repr")]
            for reader in readers {
                try await bench.api.follow(author, as: reader)
            }
            let synthetic = try await bench.store.addSyntheticFollowers(to: author.id, count: 20_000)
            try await bench.redis.markHomesBuilt(synthetic)
            let sample = Array(synthetic.shuffled().prefix(200))
            var tweets = [try await bench.api.tweet(TweetText.unique("replica up"), as: author)]
            let servedUp = try await poll(within: .seconds(60)) {
                try await homesHolding(tweets[0], of: sample, redis: bench.redis) == sample.count
            }
            #expect(servedUp, "the first tweet reached every sampled follower")
            let beforeStop = try await replicas.reads(onServer: 0)
            #expect(beforeStop.byReplica > 0, "the replica served the fan-out's follower pages: \(beforeStop)")

            try await withFault(heal: { try await Infrastructure.startReplica(1) }) {
                for round in 0..<8 {
                    tweets.append(try await bench.api.tweet(TweetText.unique("replica round \(round)"), as: author))
                    if round == 1 {
                        try await Infrastructure.stopReplica(1)
                    }
                }
                var missing: [Int64: Int] = [:]
                let reached = try await poll(within: .seconds(60)) {
                    missing = [:]
                    for tweet in tweets {
                        let held = try await homesHolding(tweet, of: sample, redis: bench.redis)
                        if held < sample.count { missing[tweet] = sample.count - held }
                    }
                    return missing.isEmpty
                }
                #expect(reached, "every tweet reached all \(sample.count) sampled followers; missing: \(missing)")
                let whileStopped = try await replicas.reads(onServer: 0)
                let movedToPrimary = ["failed", "down", "unmeasured"].reduce(0) {
                    $0 + whileStopped.byPrimary[$1, default: 0] - beforeStop.byPrimary[$1, default: 0]
                }
                #expect(movedToPrimary > 0, "reads moved to the primary: before \(beforeStop), after \(whileStopped)")
            }
            try await bench.invariants([author] + readers).waitUntilHeld(api: bench.api)
        }
    }

    /// The replica of the first server paused (`pg_wal_replay_pause()`) while its primary takes writes: once the
    /// TweetService measures it over the one-second bound, it serves no read (counted: every lag-tolerant read of
    /// that server, fan-out and home rebuilds, goes to the primary as `lagging`), every tweet still reaches its
    /// followers and a rebuilt home holds them all; resumed, it serves again.
    @Test func aPausedReplicaIsSkippedOnceOverTheBoundAndServesAgainWhenResumed() async throws {
        try await withSystem { bench in
            let replicas = ReplicaProbe(tweetServicePort: bench.system.tweetServicePort)
            let author = try await bench.api.signUp(username: bench.store.username("repp", onServer: 0))
            let reader = try await bench.api.signUp(username: bench.store.username("reprd", onServer: 0))
            try await bench.api.follow(author, as: reader)
            let synthetic = try await bench.store.addSyntheticFollowers(to: author.id, count: 3_000)
            try await bench.redis.markHomesBuilt(synthetic)
            let sample = Array(synthetic.shuffled().prefix(100))
            var tweets = [try await bench.api.tweet(TweetText.unique("before the pause"), as: author)]
            try await bench.invariants([author, reader]).waitUntilHeld(api: bench.api)

            try await ReplicaProbe.pauseReplay(onServer: 0)
            try await withFault(heal: { try await ReplicaProbe.resumeReplay(onServer: 0) }) {
                // Writes move the primary on; the measured lag passes the bound about a second after the pause.
                var lag: Double?
                let skipped = try await poll(within: .seconds(10)) {
                    tweets.append(try await bench.api.tweet(TweetText.unique("while paused"), as: author))
                    lag = try await replicas.lag(onServer: 0)
                    return (lag ?? 0) > 1
                }
                #expect(skipped, "the paused replica was measured over the bound (last lag \(String(describing: lag)))")
                let overBound = try await replicas.reads(onServer: 0)
                for _ in 0..<5 {
                    tweets.append(try await bench.api.tweet(TweetText.unique("skipped"), as: author))
                }
                // A home rebuild reads the reader's followees and their recent tweets (both on the first server).
                _ = try await bench.redis.send(["DEL", RedisArgument("tl:hb:{\(reader.id)}")])
                var home: [Int64] = []
                let rebuilt = try await poll(within: .seconds(30)) {
                    home = try await bench.api.allPages("/api/v1/timelines/home?limit=200", as: reader)
                    return Set(home).isSuperset(of: tweets)
                }
                #expect(rebuilt, "the rebuilt home holds all \(tweets.count) tweets: \(home.count) shown")
                let reached = try await poll(within: .seconds(60)) {
                    for tweet in tweets
                    where try await homesHolding(tweet, of: sample, redis: bench.redis) < sample.count {
                        return false
                    }
                    return true
                }
                #expect(reached, "every tweet reached the sampled followers")
                let paused = try await replicas.reads(onServer: 0)
                #expect(
                    paused.byReplica == overBound.byReplica, "no read on the paused replica: \(overBound) → \(paused)")
                #expect(
                    paused.byPrimary["lagging", default: 0] > overBound.byPrimary["lagging", default: 0],
                    "the primary served them as lagging: \(overBound) → \(paused)")
            }
            let resumed = try await replicas.reads(onServer: 0)
            let servesAgain = try await poll(within: .seconds(30)) {
                tweets.append(try await bench.api.tweet(TweetText.unique("resumed"), as: author))
                return try await replicas.reads(onServer: 0).byReplica > resumed.byReplica
            }
            #expect(servesAgain, "the resumed replica serves reads again")
            try await bench.invariants([author, reader]).waitUntilHeld(api: bench.api)
        }
    }
}
