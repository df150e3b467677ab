import ArgumentParser
import BenchmarkSupport
import Logging
import RedisCluster
import TimelineService
import TweetService
import Wire

/// `read-latency`: home-timeline reads through the TimelineService over Wire, beside redis-benchmark running the
/// one Redis command at the heart of such a read at the same concurrency.
struct ReadLatencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read-latency",
        abstract: "Home-timeline read latency over Wire, against redis-benchmark's LRANGE on one node."
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Concurrent readers (ours) and redis-benchmark clients (-c).")
    var readers: Int = 100

    @Option(help: "Users whose home timelines are read, round robin (real users in the benchmark database).")
    var users: Int = 200

    @Option(help: "Accounts each reader follows (rows in the benchmark database; none of them a celebrity).")
    var following: Int = 100

    @Option(help: "Entries in each home timeline (the service keeps 800).")
    var entries: Int = 800

    @Option(help: "Tweets created through the TweetService; each timeline holds a random `entries` of them.")
    var tweetPool: Int = 1_600

    @Option(help: "Tweets per page read.")
    var limit: Int = 20

    @Option(help: "Measured seconds of reads per configuration (ours).")
    var seconds: Int = 10

    @Option(help: "Requests in the redis-benchmark baseline (-n).")
    var baselineRequests: Int = 200_000

    func validate() throws {
        guard readers > 0, users > 0, following >= 0, entries > 0, tweetPool >= entries, (1...200).contains(limit),
            seconds > 0,
            baselineRequests > 0
        else {
            throw ValidationError("counts must be positive, --tweet-pool at least --entries, --limit 1 to 200")
        }
    }

    /// The two ways a home read can go, by the hybrid fan-out's setting.
    private static let variants: [(name: String, configuration: TimelineConfiguration)] = [
        ("hybrid off (celebrityThreshold nil)", TimelineConfiguration(celebrityThreshold: nil)),
        ("default configuration (celebrityThreshold 100,000)", TimelineConfiguration()),
    ]

    func run() async throws {
        let (logger, scratch) = try startBenchmark("read-latency")
        defer { scratch.remove() }
        let errors = try await TweetServiceHarness.with(servers, scratch: scratch, logger: logger) { tweets in
            let authors = try await tweets.makeUsers(onShards: (0..<16).map { $0 * 64 + 7 })
            let pool = try await tweets.makeTweets((tweetPool + authors.count - 1) / authors.count, by: authors).map(
                \.id)
            let readerUsers = try await tweets.makeUsers(onShards: (0..<users).map { $0 * 1024 / users % 1024 })
            try await addFollowing(to: readerUsers, database: tweets.database)
            let readerIDs = readerUsers.map(\.id)
            var rows: [(String, LatencySummary)] = []
            var raw: RedisBenchmark.Result?
            var celebrities: Int64 = 0
            do {
                for (index, variant) in Self.variants.enumerated() {
                    try await TimelineServiceHarness.with(
                        tweets: tweets, redisSeeds: servers.redis, configuration: variant.configuration,
                        runWorkers: false, logger: logger
                    ) { timelines in
                        if index == 0 {
                            try await fill(readerIDs: readerIDs, pool: pool, redis: timelines.redis)
                        }
                        try await warmUp(readerIDs: readerIDs, client: timelines.client)
                        if index == 0 {
                            raw = try await baseline(
                                key: BenchmarkKeys.home(readerIDs[0]), redis: timelines.redis, scratch: scratch)
                        }
                        celebrities =
                            try await timelines.redis.send(RedisCommand("SCARD", key: "tl:celebrities")).integer ?? 0
                        let result = await ClosedLoop.run(
                            concurrency: readers, duration: .seconds(seconds), read(readerIDs, timelines.client)
                        )
                        rows.append((variant.name, LatencySummary(result)))
                    }
                }
            } catch {
                try await cleanUp(readerIDs: readerIDs, pool: pool, redisSeeds: servers.redis, logger: logger)
                throw error
            }
            try await cleanUp(readerIDs: readerIDs, pool: pool, redisSeeds: servers.redis, logger: logger)
            try await tweets.clearOutboxes()
            if let raw {
                printTable(raw: raw, rows: rows, celebrities: celebrities)
            }
            return rows.reduce(0) { $0 + $1.1.errors }
        }
        report("# load average \(loadAverage()) at end")
        if errors > 0 {
            throw ExitCode.failure
        }
    }

    /// `following` made-up followees per reader, straight into the reader's shard, so that the default
    /// configuration's `list_following_ids` call returns a realistic page.
    private func addFollowing(to readers: [UserRecord], database: ShardedDatabase) async throws {
        guard following > 0 else { return }
        for reader in readers {
            let followees = BenchmarkKeys.syntheticUserIDs(count: 1)[0]
            try await database.withShard(TweeterID.shard(of: reader.id)) { connection, schema in
                try connection.query(
                    """
                    INSERT INTO \(schema).following (follower_id, followee_id, edge_id)
                    SELECT $1, $2::bigint + g, g FROM generate_series(1, $3::bigint) g
                    """,
                    [String(reader.id), String(followees), String(following)]
                )
            }
        }
    }

    /// Gives every reader a full home timeline (a random `entries` of the pool) and its "built" marker.
    private func fill(readerIDs: [Int64], pool: [Int64], redis: RedisClient) async throws {
        let ttl = TimelineConfiguration().idleTimelineTTL.components.seconds
        var fill: [RedisCommand] = []
        for reader in readerIDs {
            let key = BenchmarkKeys.home(reader)
            let members = pool.shuffled().prefix(entries).sorted(by: >).map(BenchmarkKeys.member)
            fill.append(RedisCommand(arguments: [Array("RPUSH".utf8), Array(key.utf8)] + members, keyPositions: [1]))
            fill.append(RedisCommand("EXPIRE", key: key, ttl))
            // Marks the timeline complete, so that a read does not rebuild it from the store.
            fill.append(RedisCommand("SET", key: BenchmarkKeys.homeBuilt(reader), "1", "EX", ttl))
        }
        let filled = try await redis.pipelined(fill, batchSize: 300)
        if let failure = filled.first(where: { $0.errorMessage != nil }) {
            throw BenchmarkFailure("filling home timelines failed: \(failure.errorMessage ?? "")")
        }
        let check = try await redis.pipelined(
            readerIDs.flatMap {
                [
                    RedisCommand("LLEN", key: BenchmarkKeys.home($0)),
                    RedisCommand("EXISTS", key: BenchmarkKeys.homeBuilt($0)),
                ]
            })
        let complete = stride(from: 0, to: check.count, by: 2).filter {
            check[$0].integer == Int64(entries) && check[$0 + 1].integer == 1
        }
        guard complete.count == readerIDs.count else {
            throw BenchmarkFailure(
                "only \(complete.count) of \(readerIDs.count) home timelines were filled and marked built")
        }
    }

    private func read(_ readerIDs: [Int64], _ client: WireClient) -> @Sendable (Int, Int) async throws -> Void {
        let limit = UInt32(self.limit)
        return { worker, iteration in
            let user = readerIDs[(worker &* 31 &+ iteration) % readerIDs.count]
            let page = try await client.call(ReadHomeTimeline.self, TimelineQuery(userID: user, limit: limit))
            guard page.tweets.count == Int(limit) else {
                throw BenchmarkFailure("a home timeline page held \(page.tweets.count) tweets, not \(limit)")
            }
        }
    }

    /// Every reader's first page once (the first pass fills the tweet cache), then 2 s at full concurrency.
    private func warmUp(readerIDs: [Int64], client: WireClient) async throws {
        let single = await ClosedLoop.run(concurrency: 1, duration: .seconds(120), maxCalls: readerIDs.count) {
            _, iteration in
            _ = try await client.call(
                ReadHomeTimeline.self, TimelineQuery(userID: readerIDs[iteration], limit: UInt32(limit)))
        }
        if let error = single.firstError {
            throw BenchmarkFailure("warm-up read failed: \(error)")
        }
        _ = await ClosedLoop.run(concurrency: readers, duration: .seconds(2), read(readerIDs, client))
    }

    private func baseline(key: String, redis: RedisClient, scratch: ScratchDirectory) async throws
        -> RedisBenchmark.Result
    {
        let node = try await redis.master(ofKey: key)
        let baseline = RedisBenchmark(
            executable: servers.redisBenchmark, host: node.host, port: node.port, clients: readers,
            requests: baselineRequests, pipeline: 1
        )
        return try await baseline.run(
            ["lrange", key, "0", String(limit)], scratch: scratch)
    }

    private func printTable(raw: RedisBenchmark.Result, rows: [(String, LatencySummary)], celebrities: Int64) {
        report()
        report(
            "## home-timeline reads: \(readers) concurrent readers, \(users) users with \(entries)-entry timelines, "
                + "pages of \(limit) tweets, all tweets cached, \(seconds) s per configuration")
        report()
        let table = MarkdownTable(
            [
                "what", "concurrency", "requests", "requests/s", "p50 ms", "p99 ms", "p50 ours/raw", "p99 ours/raw",
                "errors",
            ],
            rightAligned: [1, 2, 3, 4, 5, 6, 7, 8]
        )
        table.row([
            "raw: redis-benchmark LRANGE key 0 \(limit) on one home key", String(readers),
            String(raw.summary.count), raw.summary.rate, raw.summary.p50Milliseconds, raw.summary.p99Milliseconds, "",
            "", "0",
        ])
        for (name, ours) in rows {
            table.row([
                "ours: ReadHomeTimeline over Wire, \(name)", String(readers), String(ours.count), ours.rate,
                ours.p50Milliseconds, ours.p99Milliseconds,
                ratio(Double(ours.p50Nanoseconds), Double(raw.summary.p50Nanoseconds)),
                ratio(Double(ours.p99Nanoseconds), Double(raw.summary.p99Nanoseconds)), String(ours.errors),
            ])
        }
        report()
        report("# raw: \(raw.commandLine)")
        report(
            "# ours, hybrid off, per read: a Wire round trip; EXPIRE ×2 (one pipeline), LRANGE, GET ×\(limit) "
                + "(one pipeline); \(limit) tweets decoded from the cache and encoded into the answer")
        report(
            "# ours, default: the same plus SCARD tl:celebrities and GET tl:fc:{user} in the first pipeline; the shared "
                + "celebrity set held \(celebrities) at the time, so a reader's first read also asked the TweetService for its "
                + "\(following) followees (list_following_ids) and SMISMEMBER, and cached the answer for 60 s")
    }

    /// Deletes the readers' timelines and markers and every tweet the reads cached.
    private func cleanUp(readerIDs: [Int64], pool: [Int64], redisSeeds: String, logger: Logger) async throws {
        guard let seeds = RedisNodeAddress.list(redisSeeds) else { return }
        let redis = RedisClient(configuration: RedisClient.Configuration(mode: .cluster(seeds: seeds)), logger: logger)
        let background = Task { try? await redis.run() }
        let keys =
            readerIDs.flatMap { [BenchmarkKeys.home($0), BenchmarkKeys.homeBuilt($0)] } + pool.map(BenchmarkKeys.tweet)
        let deleted = try? await redis.deleteKeys(keys)
        background.cancel()
        await background.value
        report("# cleaned up: \(deleted.map(String.init) ?? "?") keys deleted (timelines, markers, cached tweets)")
    }
}
