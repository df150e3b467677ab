import ArgumentParser
import BenchmarkSupport
import Logging
import RedisCluster
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

    @Option(help: "Fan-out workers in the in-process TimelineService (the system's: two TimelineServices of 4).")
    var workers: Int = 8

    @Option(help: "Follower ids fetched and written per fan-out job (at most a page of list_follower_ids, 50,000).")
    var chunkSize: Int = 5_000

    @Option(help: "Requests in the redis-benchmark baseline (-n).")
    var baselineRequests: Int = 1_000_000

    @Option(help: "Give up on the fan-out after this many seconds.")
    var timeoutSeconds: Int = 900

    @Option(help: "Followers whose Redis writes the diagnostic row repeats without the services (at most --followers).")
    var diagnosticFollowers: Int = 100_000

    @Option(
        parsing: .upToNextOption,
        help: "Shares of the followers with a home timeline, in percent (each a divisor of 100), one run for each.")
    var activePercent: [Int] = [100, 10]

    @Option(help: "The logical shard of the author.")
    var shard: Int = 100

    @Option(
        help:
            "Run the fan-out without WAIT, with WAIT for one replica, or both one after the other (none, replica, both)."
    )
    var replication: String = "both"

    func validate() throws {
        let counts = [followers, diagnosticFollowers, workers, chunkSize, baselineRequests, timeoutSeconds]
        guard activePercent.allSatisfy({ (1...100).contains($0) && 100 % $0 == 0 }) else {
            throw ValidationError("--active-percent takes divisors of 100")
        }
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
        let (logger, scratch) = try startBenchmark("fanout")
        defer { scratch.remove() }
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
                        scratch: scratch, replication: mode, logger: logger
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
            // A million rows take longer than the pool's statement timeout, which guards requests, not this set-up.
            try connection.transaction { connection in
                try connection.query("SET LOCAL statement_timeout = 0")
                try connection.query(
                    """
                    INSERT INTO \(schema).followers (followee_id, follower_id, edge_id)
                    SELECT $1, $2::bigint + g, g FROM generate_series(1, $3::bigint) g
                    """,
                    [String(author.id), String(ids[0] - 1), String(followers)]
                )
                try connection.query("ANALYZE \(schema).followers")
            }
        }
        report(
            "# \(followers) follower rows inserted and analyzed in \(fixed((clock.now - started).inSeconds, decimals: 1)) s"
        )
        return ids
    }

    /// VACUUMs after marking, one a second, until the follows' pages are all-visible.
    private static let vacuumAttempts = 30

    /// Marks the follows of every `step`th follower as reaching a home (as a rebuild does) and the others' as
    /// passed (as for users idle longer than a home lives), then vacuums, so that the fan-out's pages are read from
    /// the index alone as on a table that autovacuum keeps.
    private func markHomes(
        every step: Int, of followerIDs: [Int64], following author: UserRecord, database: ShardedDatabase
    ) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        try await database.withShard(shard) { connection, schema in
            try connection.transaction { connection in
                try connection.query("SET LOCAL statement_timeout = 0")
                try connection.query("SET LOCAL lock_timeout = 0")
                try connection.query(
                    """
                    UPDATE \(schema).followers SET home_until = CASE WHEN (follower_id - $2::bigint) % $3::bigint = 0
                        THEN now() + interval '1 hour' ELSE now() - interval '1 day' END
                    WHERE followee_id = $1::bigint
                    """,
                    [String(author.id), String(followerIDs[0]), String(step)]
                )
            }
        }
        // The replicas' hot_standby_feedback holds back what VACUUM may clean until they report a newer horizon (every
        // few seconds): until then the updated rows' pages are not all-visible, and every page of followers would
        // visit the heap for each row, a cost that autovacuum does not leave on a table in service.
        for attempt in 1...Self.vacuumAttempts {
            let visible = try await database.withShard(shard) { connection, schema in
                // VACUUM cannot run in a transaction, so the timeouts are the session's for its length.
                try connection.query("SET statement_timeout = 0")
                try connection.query("SET lock_timeout = 0")
                defer {
                    _ = try? connection.query("RESET statement_timeout")
                    _ = try? connection.query("RESET lock_timeout")
                }
                try connection.query("VACUUM ANALYZE \(schema).followers")
                let fraction = try connection.query(
                    "SELECT relallvisible::float8 / greatest(relpages, 1) AS visible FROM pg_class WHERE oid = $1::regclass",
                    ["\(schema).followers"]
                ).all.first?.string("visible")
                return fraction.flatMap(Double.init) ?? 0
            }
            if visible >= 0.99 { break }
            if attempt == Self.vacuumAttempts {
                let share = fixed(visible * 100, decimals: 0)
                report("# note: \(share) % of the follows' pages all-visible after \(attempt) vacuums")
            }
            try await Task.sleep(for: .seconds(1))
        }
        report(
            "# follows marked (every \(step)) and vacuumed in \(fixed((clock.now - started).inSeconds, decimals: 1)) s")
    }

    private func measure(
        author: UserRecord,
        followerIDs: [Int64],
        tweets: TweetServiceHarness,
        timelines: TimelineServiceHarness,
        scratch: ScratchDirectory,
        replication: RedisReplication?,
        logger: Logger
    ) async throws {
        let redis = timelines.redis
        guard let seed = RedisNodeAddress.list(servers.redis)?.first else {
            throw BenchmarkFailure("--redis names no node")
        }
        // The baseline: pipelined ZADDs to new keys on every master, as the fan-out creates home timelines.
        let baseline = RedisBenchmark(
            executable: servers.redisBenchmark, host: seed.host, port: seed.port, clients: 50,
            requests: baselineRequests, pipeline: 100, cluster: true, keySpace: baselineRequests
        )
        let nodes = try await AppendOnlyFiles.compact(redis, logger: logger)
        let raw = try await baseline.run(["zadd", "stbench:zadd:{tag}:__rand_int__", "0", "member"], scratch: scratch)
        try await redis.deleteKeys(
            try await redis.keys(matching: "stbench:zadd:*").map { String(decoding: $0, as: UTF8.self) })

        for percent in activePercent {
            // Every (100 / percent)th follower is active, spread over the edge order; the first (written last) is one.
            let active = Array(stride(from: 0, to: followerIDs.count, by: 100 / percent).map { followerIDs[$0] })
            try await markHomes(every: 100 / percent, of: followerIDs, following: author, database: tweets.database)
            // Each active follower has a home timeline, as a rebuild leaves it: the marker, and one older tweet.
            let olderTweet = BenchmarkKeys.member(
                TweeterID.make(unixMillis: TweeterID.epochMillis + 1, shard: 0, sequence: 0))
            _ = try await redis.pipelined(
                active.flatMap {
                    [
                        RedisCommand("SET", key: BenchmarkKeys.homeBuilt($0), "1", "EX", 3_600),
                        RedisCommand("RPUSH", key: BenchmarkKeys.home($0), olderTweet),
                        RedisCommand("EXPIRE", key: BenchmarkKeys.home($0), 3_600),
                    ]
                })
            let idleReader = try await tweets.makeUsers(1, onShard: (shard + 1) % 1024)[0]
            _ = try await tweets.client.call(Follow.self, FollowEdge(followerID: idleReader.id, followeeID: author.id))
            if !(try await timelines.waitForIdleQueue(limit: .seconds(30))) {
                report("# note: the shared fan-out queue was still busy with other work after 30 s; measuring anyway")
            }
            _ = try await AppendOnlyFiles.compact(redis, logger: logger)
            let (elapsed, tweetID) = try await fanOut(
                from: author, lastFollower: followerIDs[0], tweets: tweets, timelines: timelines)
            let drained = try await timelines.waitForIdleQueue(limit: .seconds(30))
            let missing = try await countMissing(tweetID: tweetID, followerIDs: active, redis: redis)
            // The idle followers (every one but the active) got nothing: their timelines are rebuilt when read.
            let idleFollowers =
                percent < 100
                ? Array(followerIDs.indices.filter { $0 % (100 / percent) != 0 }.prefix(5_000).map { followerIDs[$0] })
                : []
            let idleWritten = try await redis.pipelined(
                idleFollowers.map { RedisCommand("EXISTS", key: BenchmarkKeys.home($0)) }
            )
            .reduce(0) { $0 + Int($1.integer ?? 0) }
            let clock = ContinuousClock()
            let readStarted = clock.now
            let idlePage = try await timelines.client.call(
                ReadHomeTimeline.self, TimelineQuery(userID: idleReader.id, limit: 20))
            let idleRead = clock.now - readStarted
            let idleHasTweet = idlePage.tweets.contains { $0.id == tweetID }
            try await cleanUp(author: author, tweetID: tweetID, followerIDs: followerIDs, redis: redis)
            try await redis.deleteKeys(
                active.map(BenchmarkKeys.homeBuilt) + [
                    BenchmarkKeys.home(idleReader.id), BenchmarkKeys.homeBuilt(idleReader.id),
                ])
            _ = try await tweets.client.call(
                Unfollow.self, FollowEdge(followerID: idleReader.id, followeeID: author.id))

            let diagnosed = Array(active.prefix(diagnosticFollowers))
            let clientOnly = try await measureDeliveryAlone(
                tweetID: tweetID, followerIDs: diagnosed, redis: redis, replication: replication)
            let clientOnlyPerSecond = Double(diagnosed.count) / clientOnly.inSeconds

            let entriesPerSecond = Double(followers) / elapsed.inSeconds
            report()
            let waits =
                replication.map { "WAIT for \($0.replicas) replica before each job's acknowledgement" } ?? "no WAIT"
            report(
                "## fan-out of one tweet to \(followers) followers, \(percent)% active (\(active.count) home timelines): "
                    + "\(workers) workers, \(chunkSize) followers per job, hybrid off, \(waits)")
            report()
            let table = MarkdownTable(
                ["what", "followers", "seconds", "followers/s", "ours/raw"], rightAligned: [1, 2, 3, 4])
            table.row([
                "raw: redis-benchmark --cluster ZADD to new keys on every master, 50 clients, pipeline 100",
                String(baselineRequests), fixed(Double(baselineRequests) / raw.summary.perSecond, decimals: 2),
                raw.summary.rate, "",
            ])
            table.row([
                "ours: CreateTweet → outbox → relay → queue → fan-out", String(followers),
                fixed(elapsed.inSeconds, decimals: 2), String(Int(entriesPerSecond.rounded())),
                ratio(entriesPerSecond, raw.summary.perSecond),
            ])
            table.row([
                "diagnostic: TimelineDelivery alone per \(chunkSize) active followers", String(diagnosed.count),
                fixed(clientOnly.inSeconds, decimals: 2), String(Int(clientOnlyPerSecond.rounded())),
                ratio(clientOnlyPerSecond, raw.summary.perSecond),
            ])
            report()
            report("# raw: \(raw.commandLine)")
            report(
                "# before each timed run (raw and ours) every node's append-only file was rewritten (\(nodes) nodes)")
            report(
                "# ours: timed from the CreateTweet call until follower \(followerIDs[0])'s home timeline (the last page's) "
                    + "held the tweet and the queue had no job left; one script call per master per job (TimelineDelivery)"
            )
            report(
                "# queue " + (drained ? "empty" : "still busy")
                    + " afterwards; active home timelines missing the tweet: "
                    + "\(missing) of \(active.count); an idle follower's first read (a rebuild) took "
                    + "\(fixed(idleRead.inSeconds * 1000, decimals: 1)) ms and " + (idleHasTweet ? "showed" : "LACKED")
                    + " the tweet; idle followers written: \(idleWritten) of \(idleFollowers.count) sampled")
            if missing > 0 || !idleHasTweet || idleWritten > 0 {
                throw BenchmarkFailure("\(missing) home timelines lack the tweet; idle reader saw it: \(idleHasTweet)")
            }
        }
    }

    /// Creates a tweet and waits until `lastFollower`'s home timeline holds it and no fan-out job is left (the pages
    /// run at once, so the last follower's is not always the last written); returns the time and the tweet id.
    private func fanOut(
        from author: UserRecord, lastFollower: Int64, tweets: TweetServiceHarness, timelines: TimelineServiceHarness
    ) async throws -> (Duration, Int64) {
        let redis = timelines.redis
        let clock = ContinuousClock()
        let started = clock.now
        let tweet = try await tweets.client.call(
            CreateTweet.self, NewTweet(authorID: author.id, text: "to \(followers) followers"))
        await timelines.relay.drain(shards: [shard])
        var nextReport = started + .seconds(15)
        while try await redis.send(BenchmarkKeys.holding(tweet.id, in: BenchmarkKeys.home(lastFollower))).isNull {
            let now = clock.now
            guard now - started < .seconds(timeoutSeconds) else {
                throw BenchmarkFailure("the fan-out did not finish within \(timeoutSeconds) s")
            }
            if now >= nextReport {
                let stats = try await timelines.monitor.call(ReadQueueStats.self, WireEmpty())
                report(
                    "# … \(Int((now - started).inSeconds)) s: queue waiting \(stats.waiting), pending \(stats.pending)")
                nextReport = now + .seconds(15)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        // Pages run at once, so the last follower's may not be the last written: done when no job is left.
        let left = .seconds(timeoutSeconds) - (clock.now - started)
        guard try await timelines.waitForIdleQueue(limit: left, polling: .milliseconds(2)) else {
            throw BenchmarkFailure("the fan-out's jobs did not finish within \(timeoutSeconds) s")
        }
        return (clock.now - started, tweet.id)
    }

    /// The fan-out's Redis writes with nothing else: ``TimelineDelivery`` per chunk of followers, one chunk after
    /// another, straight through the service's `RedisClient` (no queue, no TweetService, no Wire). Tells how much of
    /// the fan-out's time the Redis side takes. The followers' homes are built; they are deleted afterwards.
    private func measureDeliveryAlone(
        tweetID: Int64, followerIDs: [Int64], redis: RedisClient, replication: RedisReplication?
    ) async throws -> Duration {
        _ = try await redis.pipelined(
            followerIDs.map { RedisCommand("SET", key: BenchmarkKeys.homeBuilt($0), "1", "EX", 3_600) })
        var configuration = TimelineConfiguration()
        configuration.replication = replication
        let delivery = TimelineDelivery(redis: redis, configuration: configuration)
        let clock = ContinuousClock()
        let started = clock.now
        for start in stride(from: 0, to: followerIDs.count, by: chunkSize) {
            try await delivery.add(tweetID, to: Array(followerIDs[start..<min(start + chunkSize, followerIDs.count)]))
        }
        let elapsed = clock.now - started
        try await redis.deleteKeys(followerIDs.flatMap { [BenchmarkKeys.home($0), BenchmarkKeys.homeBuilt($0)] })
        return elapsed
    }

    /// Home timelines of `followerIDs` that do not hold the tweet, checked in pipelined batches.
    private func countMissing(tweetID: Int64, followerIDs: [Int64], redis: RedisClient) async throws -> Int {
        try await redis.pipelined(followerIDs.map { BenchmarkKeys.holding(tweetID, in: BenchmarkKeys.home($0)) })
            .filter(\.isNull).count
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
