import InfraTestSupport
import Testing
import TimelineService

extension FaultInjectionTests {
    /// A Redis master killed with SIGKILL in the middle of a fan-out to 20,000 followers, while tweets keep coming: its
    /// replica takes over, nothing that was acknowledged is lost (events reach Redis only once a replica holds them,
    /// and what the dead master alone took is still in the outbox), and once the old master is back as the new
    /// replica, every view converges.
    @Test func aRedisMasterKilledDuringFanOutIsReplacedByItsReplicaAndLosesNothing() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("fovera")
            let readers = [try await bench.api.signUp("fover"), try await bench.api.signUp("fover")]
            for reader in readers {
                try await bench.api.follow(author, as: reader)
            }
            let synthetic = try await bench.store.addSyntheticFollowers(to: author.id, count: 20_000)
            try await bench.redis.markHomesBuilt(synthetic)
            let sample = Array(synthetic.shuffled().prefix(200))
            try await bench.invariants([author] + readers).waitUntilHeld(api: bench.api)

            let victim = try await masterHolding(FanOutStreams.keys[0], redis: bench.redis)
            let victimPort = String(victim.split(separator: ":").last ?? "")
            var tweets = [try await bench.api.tweet(TweetText.unique("as the master dies"), as: author)]
            let started = try await poll(within: .seconds(60), every: .milliseconds(10)) {
                try await homesHolding(tweets[0], of: sample, redis: bench.redis) > 0
            }
            #expect(started, "the fan-out reached the first followers before the kill")
            try await ScriptsInfra.run("redis-kill", victimPort)
            try await withFault(heal: { try await Self.bringBack(victim, port: victimPort, redis: bench.redis) }) {
                for index in 0..<10 {
                    let reply = try await bench.api.post(TweetText.unique("during the failover \(index)"), as: author)
                    #expect(reply.status == 201, "a tweet is acknowledged once PostgreSQL has it: \(reply.summary)")
                    if let id = reply.tweetID { tweets.append(id) }
                    // Pacing, not waiting for a condition: ten tweets spread over the 3 s around the promotion (the
                    // cluster's node timeout is 5 s), so that some arrive before, during and after it.
                    try await Task.sleep(for: .milliseconds(300))
                }
            }
            var invariants = bench.invariants([author] + readers)
            invariants.syntheticHomes = Dictionary(uniqueKeysWithValues: sample.map { ($0, tweets[tweets.count - 1]) })
            try await invariants.waitUntilHeld(within: .seconds(120), api: bench.api)
            #expect(try await homesHolding(tweets[0], of: sample, redis: bench.redis) == sample.count)
        }
    }

    /// Starts the killed master again (it rejoins as its successor's replica) and gives it its role back, so that
    /// the cluster is laid out as `scripts/infra` made it.
    private static func bringBack(_ node: String, port: String, redis: RedisProbe) async throws {
        try await ScriptsInfra.run("redis-start", port)
        let promoted = try await poll(within: .seconds(60), every: .milliseconds(200)) {
            let role = try await redis.send(["ROLE"], to: node).array?.first?.string
            if role == "slave" {
                _ = try? await redis.send(["CLUSTER", "FAILOVER"], to: node)
            }
            return role == "master"
        }
        guard promoted else { throw FaultFailure("\(node) did not become a master again") }
    }
}
