import BenchmarkSupport
import Logging
import TweetService
import Wire

/// A TweetService as production runs it (handlers on the sharded PostgreSQL store behind a `WireServer` on
/// 127.0.0.1) and a `WireClient` that calls it, in this process, on the benchmark's own database.
///
/// No outbox relay runs: events stay in the benchmark database's outboxes unless a benchmark drains them itself.
struct TweetServiceHarness: Sendable {
    let database: ShardedDatabase
    /// Calls as the Gateway does.
    let client: WireClient
    /// Calls as a TimelineService does (follower pages, hydration, rebuilds).
    let timelineServiceClient: WireClient
    /// The service key this process's servers and clients share.
    let keys: WireServiceKeys
    let serverURLs: [String]

    /// Creates and migrates the benchmark database, serves the TweetService, runs `body`, then stops everything and
    /// drops the database (unless `--keep-database`).
    static func with<Result: Sendable>(
        _ options: ServerOptions,
        scratch: ScratchDirectory,
        logger: Logger,
        backpressure: FanOutBackpressure? = nil,
        _ body: (TweetServiceHarness) async throws -> Result
    ) async throws -> Result {
        let storage = BenchmarkDatabase(name: options.database, serverURLs: options.serverURLs, psql: options.psql)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            try await storage.create(in: scratch)
            try await storage.migrate(logger: logger)
        } catch {
            if !options.keepDatabase {
                try? await storage.drop(in: scratch)
            }
            throw error
        }
        let database = storage.open(connectionsPerServer: options.pgConnections, logger: logger)
        report(
            "# database \(storage.name) on \(storage.urls.count) servers (1024 logical shards), ready in "
                + "\(fixed((clock.now - started).inSeconds, decimals: 1)) s")
        let hasher = PasswordHasher(configuration: PasswordHasher.Configuration(logN: 10))
        let handlers = TweetServiceHandlers(
            database: database, hasher: hasher, relay: nil, backpressure: backpressure)
        let keys = WireServiceKeys.generate()
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(serverName: TweetServiceHandlers.serviceName, keys: keys),
            router: handlers.router(),
            logger: logger
        )
        let serverTask = Task { try await server.run() }
        let client = WireClient.loopback(port: server.port, role: .gateway, keys: keys, logger: logger)
        let timelineServiceClient = WireClient.loopback(
            port: server.port, role: .timelineService, keys: keys, logger: logger)
        let outcome: Swift.Result<Result, any Error>
        do {
            let harness = TweetServiceHarness(
                database: database, client: client, timelineServiceClient: timelineServiceClient, keys: keys,
                serverURLs: storage.urls
            )
            outcome = .success(try await body(harness))
        } catch {
            outcome = .failure(error)
        }
        client.closeConnections()
        timelineServiceClient.closeConnections()
        server.shutdownGracefully()
        _ = await serverTask.result
        try? await database.shutdown()
        try? await hasher.shutdown()
        if !options.keepDatabase {
            try await storage.drop(in: scratch)
            report("# dropped database \(storage.name)")
        }
        return try outcome.get()
    }

    /// Creates `count` users through `CreateUser`, with usernames chosen so that every user lives on `shard`.
    func makeUsers(_ count: Int, onShard shard: Int) async throws -> [UserRecord] {
        var users: [UserRecord] = []
        while users.count < count {
            let username = "sb" + String(UInt64.random(in: 0..<(1 << 60)), radix: 36).prefix(13)
            guard database.shardMap.shard(ofUsername: username) == shard else { continue }
            users.append(
                try await client.call(CreateUser.self, Credentials(username: username, password: "benchmark1")))
        }
        return users
    }

    /// One user on each of `shards`.
    func makeUsers(onShards shards: [Int]) async throws -> [UserRecord] {
        var users: [UserRecord] = []
        for shard in shards {
            users += try await makeUsers(1, onShard: shard)
        }
        return users
    }

    /// `count` tweets by each of `authors`, `concurrency` calls at a time; returns them in creation order per author.
    func makeTweets(_ count: Int, by authors: [UserRecord], concurrency: Int = 16) async throws -> [TweetRecord] {
        let jobs = authors.flatMap { author in (0..<count).map { (author, $0) } }
        var tweets: [TweetRecord] = []
        try await withThrowingTaskGroup(of: [TweetRecord].self) { group in
            let perWorker = (jobs.count + concurrency - 1) / max(1, concurrency)
            for start in stride(from: 0, to: jobs.count, by: max(1, perWorker)) {
                let slice = Array(jobs[start..<min(start + perWorker, jobs.count)])
                group.addTask {
                    var made: [TweetRecord] = []
                    for (author, index) in slice {
                        made.append(
                            try await client.call(
                                CreateTweet.self, NewTweet(authorID: author.id, text: Self.tweetText(index))))
                    }
                    return made
                }
            }
            for try await made in group {
                tweets += made
            }
        }
        return tweets.sorted { $0.id < $1.id }
    }

    /// Inserts `count` follower rows for `author` with synthetic follower ids (``BenchmarkKeys/syntheticUserIDs(count:)``)
    /// and returns those ids.
    func addSyntheticFollowers(_ count: Int, to author: UserRecord) async throws -> [Int64] {
        let ids = BenchmarkKeys.syntheticUserIDs(count: count)
        try await database.withShard(TweeterID.shard(of: author.id)) { connection, schema in
            try connection.query(
                """
                INSERT INTO \(schema).followers (followee_id, follower_id, edge_id)
                SELECT $1, $2::bigint + g, g FROM generate_series(1, $3::bigint) g
                """,
                [String(author.id), String(ids[0] - 1), String(count)]
            )
        }
        return ids
    }

    /// Empties every shard's outbox in the benchmark database, so that events of one benchmark (no relay runs) are
    /// never delivered by a later one that reuses the database (`--keep-database`).
    func clearOutboxes() async throws {
        _ = try await database.onEveryServer { connection, shards in
            for shard in shards {
                try connection.query("DELETE FROM \(ShardMap.schema(ofShard: shard)).outbox")
            }
        }
    }

    /// A tweet of ordinary length (about 70 characters).
    static func tweetText(_ index: Int) -> String {
        "store-benchmark tweet \(index): the quick brown fox jumps over the lazy dog"
    }
}

extension WireClient {
    /// A client of a server of this process on 127.0.0.1, calling in `role`.
    static func loopback(port: Int, role: WirePeerRole, keys: WireServiceKeys, logger: Logger) -> WireClient {
        WireClient(
            configuration: WireClientConfiguration(
                endpoints: [WireEndpoint(host: "127.0.0.1", port: port)], role: role, keys: keys,
                defaultTimeout: .seconds(60)
            ),
            logger: logger
        )
    }
}
