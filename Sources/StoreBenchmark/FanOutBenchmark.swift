import ArgumentParser
import BenchmarkSupport
import Logging
import TimelineService
import TweetService
import Wire

/// `fanout`: one tweet to a large number of followers, end to end through both services, beside redis-benchmark's
/// pipelined `ZADD` on one node.
struct FanOutBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract:
            "Home-timeline entries written per second by one tweet's fan-out, against pipelined ZADD in redis-benchmark."
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Synthetic followers of the author (rows in the benchmark database only).")
    var followers: Int = 1_000_000

    @Option(help: "Fan-out workers in the in-process TimelineService.")
    var workers: Int = 4

    @Option(help: "Follower ids fetched and written per fan-out job (at most a page of list_follower_ids, 50,000).")
    var chunkSize: Int = 5_000

    @Option(help: "Requests in the redis-benchmark baseline (-n).")
    var baselineRequests: Int = 1_000_000

    @Option(help: "Give up on the fan-out after this many seconds.")
    var timeoutSeconds: Int = 900

    @Option(help: "Followers whose Redis writes the diagnostic row repeats without the services (at most --followers).")
    var diagnosticFollowers: Int = 100_000

    @Option(help: "The logical shard of the author.")
    var shard: Int = 100

    @Option(
        help:
            "Run the fan-out without WAIT, with WAIT for one replica, or both one after the other (none, replica, both)."
    )
    var replication: String = "both"

    func validate() throws {
        let counts = [followers, diagnosticFollowers, workers, chunkSize, baselineRequests, timeoutSeconds]
        guard counts.allSatisfy({ $0 > 0 }), (0..<1024).contains(shard) else {
            throw ValidationError("counts must be positive, --shard 0 to 1023")
        }
        guard ["none", "replica", "both"].contains(replication) else {
            throw ValidationError("--replication is none, replica or both")
        }
        guard ListFollowerIDs.limitRange.contains(UInt32(clamping: chunkSize)) else {
            throw ValidationError(
                "--chunk-size is at most \(ListFollowerIDs.limitRange.upperBound), a page of list_follower_ids")
        }
    }

    func run() async throws {
        var logger = Logger(label: "store-benchmark")
        logger.logLevel = .warning
        let scratch = try ScratchDirectory.make()
        defer { scratch.remove() }
        printMachineLine("fanout")
        // Fan-out on write for every author: with the default hybrid (celebrityThreshold 100,000) an author this large
        // would be merged into home timelines at read time instead, and there would be no fan-out to measure.
        let modes: [RedisReplication?] =
            switch replication {
            case "none": [nil]
            case "replica": [RedisReplication()]
            default: [nil, RedisReplication()]
            }
        try await TweetServiceHarness.with(servers, scratch: scratch, logger: logger) { tweets in
            let author = try await tweets.makeUsers(1, onShard: shard)[0]
            let followerIDs = try await addFollowers(to: author, database: tweets.database)
            for mode in modes {
                var configuration = TimelineConfiguration(
                    fanOutChunkSize: chunkSize, workers: workers, celebrityThreshold: nil)
                configuration.replication = mode
                try await TimelineServiceHarness.with(
                    tweets: tweets, redisSeeds: servers.redis, configuration: configuration, runWorkers: true,
                    logger: logger
                ) { timelines in
                    try await measure(
                        author: author, followerIDs: followerIDs, tweets: tweets, timelines: timelines,
                        scratch: scratch,
                        replication: mode
                    )
                }
            }
            if servers.keepDatabase {
                try await tweets.database.withShard(shard) { connection, schema in
                    try connection.query("DELETE FROM \(schema).followers WHERE followee_id = $1", [String(author.id)])
                }
            }
            try await tweets.clearOutboxes()
        }
        report("# load average \(loadAverage()) at end")
    }

    /// Inserts the follower rows in one statement, as the live tests do, then analyzes the table so that paging
    /// uses the newest-first index as it would on a table of that size in production.
    private func addFollowers(to author: UserRecord, database: ShardedDatabase) async throws -> [Int64] {
        let ids = BenchmarkKeys.syntheticUserIDs(count: followers)
        let clock = ContinuousClock()
        let started = clock.now
        try await database.withShard(shard) { connection, schema in
            try connection.query(
                """
                INSERT INTO \(schema).followers (followee_id, follower_id, edge_id)
                SELECT $1, $2::bigint + g, g FROM generate_series(1, $3::bigint) g
                """,
                [String(author.id), String(ids[0] - 1), String(followers)]
            )
            try connection.query("ANALYZE \(schema).followers")
        }
        report(
            "# \(followers) follower rows inserted and analyzed in \(fixed((clock.now - started).inSeconds, decimals: 1)) s"
        )
        return ids
    }

    private func measure(
        author: UserRecord,
        followerIDs: [Int64],
        tweets: TweetServiceHarness,
        timelines: TimelineServiceHarness,
        scratch: ScratchDirectory,
        replication: RedisReplication?
    ) async throws {
        let redis = timelines.redis
        guard let seed = RedisNodeAddress.list(servers.redis)?.first else {
            throw BenchmarkFailure("--redis names no node")
        }
        let baselineKey = try await redis.key(prefix: "stbench:zadd:", on: seed)
        let baseline = RedisBenchmark(
            executable: servers.redisBenchmark, host: seed.host, port: seed.port, clients: 50,
            requests: baselineRequests, pipeline: 100
        )
        let raw = try await baseline.run(["zadd", baselineKey, "0", "member"], scratch: scratch)
        try await redis.deleteKeys([baselineKey])

        if !(try await timelines.waitForIdleQueue(limit: .seconds(30))) {
            report("# note: the shared fan-out queue was still busy with other work after 30 s; measuring anyway")
        }
        // Edges are numbered 1...N and pages go newest edge first, so the follower on edge 1 is written last.
        let lastFollower = followerIDs[0]
        let clock = ContinuousClock()
        let started = clock.now
        let tweet = try await tweets.client.call(
            CreateTweet.self, NewTweet(authorID: author.id, text: "to \(followers) followers"))
        await timelines.relay.drain(shards: [shard])
        let member = BenchmarkKeys.member(tweet.id)
        var nextReport = started + .seconds(15)
        while try await redis.send(RedisCommand("ZSCORE", key: BenchmarkKeys.home(lastFollower), member)).isNull {
            let now = clock.now
            guard now - started < .seconds(timeoutSeconds) else {
                try await cleanUp(author: author, tweetID: tweet.id, followerIDs: followerIDs, redis: redis)
                throw BenchmarkFailure("the fan-out did not finish within \(timeoutSeconds) s")
            }
            if now >= nextReport {
                let stats = try await timelines.monitor.call(ReadQueueStats.self, WireEmpty())
                report(
                    "# … \(Int((now - started).inSeconds)) s: queue waiting \(stats.waiting), pending \(stats.pending)")
                nextReport = now + .seconds(15)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let elapsed = clock.now - started
        let drained = try await timelines.waitForIdleQueue(limit: .seconds(30))
        let queueEmptyAfter = clock.now - started

        let missing = try await countMissing(tweetID: tweet.id, followerIDs: followerIDs, redis: redis)
        try await cleanUp(author: author, tweetID: tweet.id, followerIDs: followerIDs, redis: redis)
        let diagnosed = Array(followerIDs.prefix(diagnosticFollowers))
        let clientOnly = try await measureRedisWritesAlone(tweetID: tweet.id, followerIDs: diagnosed, redis: redis)
        let clientOnlyPerSecond = Double(diagnosed.count) / clientOnly.inSeconds

        let entriesPerSecond = Double(followers) / elapsed.inSeconds
        report()
        let waits = replication.map { "WAIT for \($0.replicas) replica before each job's acknowledgement" } ?? "no WAIT"
        report(
            "## fan-out of one tweet to \(followers) followers: \(workers) workers, \(chunkSize) followers per job, "
                + "hybrid off (celebrityThreshold nil), \(waits)")
        report()
        let table = MarkdownTable(
            ["what", "entries written", "seconds", "entries/s", "Redis commands/s", "ours/raw entries/s"],
            rightAligned: [1, 2, 3, 4, 5]
        )
        table.row([
            "raw: redis-benchmark ZADD, one key on \(seed), 50 clients, pipeline 100", String(baselineRequests),
            fixed(Double(baselineRequests) / raw.summary.perSecond, decimals: 2), raw.summary.rate, raw.summary.rate,
            "",
        ])
        table.row([
            "ours: CreateTweet → outbox → relay → queue → fan-out", String(followers),
            fixed(elapsed.inSeconds, decimals: 2),
            String(Int(entriesPerSecond.rounded())), String(Int((entriesPerSecond * 3).rounded())),
            ratio(entriesPerSecond, raw.summary.perSecond),
        ])
        table.row([
            "diagnostic: the same Redis writes alone, RedisClient.pipeline per \(chunkSize) followers",
            String(diagnosed.count),
            fixed(clientOnly.inSeconds, decimals: 2), String(Int(clientOnlyPerSecond.rounded())),
            String(Int((clientOnlyPerSecond * 3).rounded())), ratio(clientOnlyPerSecond, raw.summary.perSecond),
        ])
        report()
        report("# raw: \(raw.commandLine)")
        report(
            "# ours: timed from the CreateTweet call until follower \(lastFollower)'s home timeline (written last) held the tweet; "
                + "each entry is ZADD + ZREMRANGEBYRANK + EXPIRE")
        report(
            "# queue " + (drained ? "empty" : "still busy")
                + " after \(fixed(queueEmptyAfter.inSeconds, decimals: 2)) s; "
                + "home timelines missing the tweet afterwards: \(missing) of \(followers)")
        if missing > 0 {
            throw BenchmarkFailure("\(missing) home timelines lack the tweet")
        }
    }

    /// The fan-out's Redis writes with nothing else: the commands a fan-out job sends for each follower, one
    /// pipeline per chunk, one chunk after another as the jobs run, straight through the service's `RedisClient`
    /// (no queue, no TweetService, no Wire). Tells how much of the fan-out's time the Redis client itself takes.
    private func measureRedisWritesAlone(tweetID: Int64, followerIDs: [Int64], redis: RedisClient) async throws
        -> Duration
    {
        let member = BenchmarkKeys.member(tweetID)
        let configuration = TimelineConfiguration()
        let ttl = configuration.idleTimelineTTL.components.seconds
        let clock = ContinuousClock()
        let started = clock.now
        for start in stride(from: 0, to: followerIDs.count, by: chunkSize) {
            var commands: [RedisCommand] = []
            commands.reserveCapacity(chunkSize * 3)
            for follower in followerIDs[start..<min(start + chunkSize, followerIDs.count)] {
                let key = BenchmarkKeys.home(follower)
                commands.append(RedisCommand("ZADD", key: key, 0, member))
                commands.append(RedisCommand("ZREMRANGEBYRANK", key: key, 0, -(configuration.homeCapacity + 1)))
                commands.append(RedisCommand("EXPIRE", key: key, ttl))
            }
            _ = try await redis.pipeline(commands)
        }
        let elapsed = clock.now - started
        try await redis.deleteKeys(followerIDs.map(BenchmarkKeys.home))
        return elapsed
    }

    /// Home timelines of `followerIDs` that do not hold the tweet, checked in pipelined batches.
    private func countMissing(tweetID: Int64, followerIDs: [Int64], redis: RedisClient) async throws -> Int {
        let member = BenchmarkKeys.member(tweetID)
        var missing = 0
        for start in stride(from: 0, to: followerIDs.count, by: 5_000) {
            let batch = followerIDs[start..<min(start + 5_000, followerIDs.count)].map {
                RedisCommand("ZSCORE", key: BenchmarkKeys.home($0), member)
            }
            missing += try await redis.pipeline(batch).filter(\.isNull).count
        }
        return missing
    }

    /// Deletes every key the fan-out wrote: the followers' home timelines, the author's timelines, the cached tweet,
    /// and the tweet's entry in the shared public timeline.
    private func cleanUp(author: UserRecord, tweetID: Int64, followerIDs: [Int64], redis: RedisClient) async throws {
        let deleted = try await redis.deleteKeys(followerIDs.map(BenchmarkKeys.home))
        try await redis.deleteKeys([
            BenchmarkKeys.home(author.id), BenchmarkKeys.profile(author.id), BenchmarkKeys.tweet(tweetID),
        ])
        _ = try await redis.send(RedisCommand("ZREM", key: BenchmarkKeys.publicTimeline, BenchmarkKeys.member(tweetID)))
        report(
            "# cleaned up: \(deleted) home timelines deleted, the author's timelines, cached tweet and public entry removed"
        )
    }
}
