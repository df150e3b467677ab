import Testing

extension FaultInjectionTests {
    /// A TimelineService killed with SIGKILL while it works through the fan-out of a tweet to 50,000 followers (the
    /// first sampled homes have it, and it holds unacknowledged jobs): the other instance takes over those jobs after
    /// the 10-second reclaim and finishes the fan-out, so every follower's home holds the tweet (200 synthetic
    /// followers checked in Redis, two real ones through the API).
    @Test func aTimelineServiceKilledMidFanOutIsFinishedByTheOther() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("crowd")
            let readers = [try await bench.api.signUp("crowdr"), try await bench.api.signUp("crowdr")]
            for reader in readers {
                try await bench.api.follow(author, as: reader)
            }
            let synthetic = try await bench.store.addSyntheticFollowers(to: author.id, count: 50_000)
            try await bench.redis.markHomesBuilt(synthetic)
            let sample = Array(synthetic.shuffled().prefix(200))
            let before = try await bench.api.tweet(TweetText.unique("before the crash"), as: author)
            try await bench.invariants([author] + readers).waitUntilHeld(api: bench.api)

            // Only the first instance works on the fan-out, so that its death leaves work behind.
            let (doomed, survivor) = (bench.system.timelineServices[0], bench.system.timelineServices[1])
            await survivor.stop()
            let tweet = try await bench.api.tweet(TweetText.unique("to fifty thousand"), as: author)
            var heldAtCrash = 0
            try await withFault(heal: { try await restartStopped([survivor], of: bench.system) }) {
                // The kill comes once the first followers have the tweet and the instance holds unacknowledged jobs.
                let instance = bench.system.timelineConsumer(0)
                let started = try await poll(within: .seconds(60), every: .milliseconds(10)) {
                    guard try await homesHolding(tweet, of: sample, redis: bench.redis) > 0 else { return false }
                    return try await queuedJobs(instance: instance, redis: bench.redis).pendingOnInstance > 0
                }
                await doomed.crash()
                #expect(started, "the fan-out reached the first followers before the crash")
                let left = try await queuedJobs(instance: instance, redis: bench.redis)
                heldAtCrash = try await homesHolding(tweet, of: sample, redis: bench.redis)
                print("killed mid fan-out: \(heldAtCrash)/\(sample.count) sampled homes, \(left) jobs")
                #expect(
                    heldAtCrash < sample.count && left.pendingOnInstance > 0,
                    """
                    the crash came in the middle of the fan-out, leaving jobs to reclaim: \(heldAtCrash) of \
                    \(sample.count) sampled homes held the tweet, \(left.pendingOnInstance) jobs were pending on the \
                    dead instance, \(left.total) queued
                    """)
            }
            var invariants = bench.invariants([author] + readers)
            invariants.syntheticHomes = Dictionary(uniqueKeysWithValues: sample.map { ($0, tweet) })
            try await invariants.waitUntilHeld(within: .seconds(90), api: bench.api)
            #expect(try await homesHolding(before, of: sample, redis: bench.redis) == sample.count)
        }
    }
}

/// How many of `followers` have `tweet` in their home timeline in Redis.
func homesHolding(_ tweet: Int64, of followers: [Int64], redis: RedisProbe) async throws -> Int {
    var holding = 0
    for follower in followers
    where try await redis.timeline("tl:h:{\(follower)}", holds: tweet) {
        holding += 1
    }
    return holding
}

/// The fan-out jobs in the queue (`XLEN`) and those pending on one instance's workers (`XPENDING` summary; each
/// worker is a consumer named `<instance>-<n>`).
func queuedJobs(instance: String, redis: RedisProbe) async throws -> (total: Int64, pendingOnInstance: Int64) {
    let total = try await redis.fanOutBacklog().length
    let pending = try await redis.fanOutPending { $0 == instance || $0.hasPrefix(instance + "-") }
    return (total, pending)
}
