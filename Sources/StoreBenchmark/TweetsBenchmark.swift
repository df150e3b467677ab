import ArgumentParser
import BenchmarkSupport
import Foundation
import Logging
import TweetService
import Wire

/// `tweets`: tweet creation and batch reads through the TweetService over Wire, beside pgbench running the same
/// SQL straight against one shard.
struct TweetsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tweets",
        abstract: "Tweets created per second and batch-get latency, against pgbench on the same servers."
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Measured seconds of tweet creation, for ours and for pgbench.")
    var seconds: Int = 10

    @Option(help: "Concurrent callers creating tweets (ours) and pgbench clients (-c).")
    var callers: Int = 64

    @Option(help: "Measured seconds per batch-get cell.")
    var getSeconds: Int = 5

    @Option(parsing: .upToNextOption, help: "Concurrent callers for batch gets.")
    var getConcurrency: [Int] = [1, 16]

    @Option(help: "The logical shard that holds every author of the creation run and the one-shard batch.")
    var shard: Int = 100

    func validate() throws {
        guard seconds > 0, getSeconds > 0, callers > 0, getConcurrency.allSatisfy({ $0 > 0 }),
            (0..<1024).contains(shard)
        else {
            throw ValidationError("durations and counts must be positive, --shard 0 to 1023")
        }
    }

    func run() async throws {
        let (logger, scratch) = try startBenchmark("tweets")
        defer { scratch.remove() }
        let errors = try await TweetServiceHarness.with(servers, scratch: scratch, logger: logger) { harness in
            let creationErrors = try await measureCreation(harness, scratch: scratch)
            let getErrors = try await measureBatchGets(harness, scratch: scratch)
            try await harness.clearOutboxes()
            return creationErrors + getErrors
        }
        report("# load average \(loadAverage()) at end")
        if errors > 0 {
            throw ExitCode.failure
        }
    }

    /// (a) Tweets per second: `CreateTweet` over Wire by `callers` callers, one author each, against pgbench's
    /// `callers` clients running the statement that stores the same rows.
    /// Returns the number of failed calls and transactions.
    private func measureCreation(_ harness: TweetServiceHarness, scratch: ScratchDirectory) async throws -> Int {
        let authors = try await harness.makeUsers(callers, onShard: shard)
        let schema = ShardMap.schema(ofShard: shard)
        let server = harness.database.shardMap.server(ofShard: shard)
        let authorArray = authors.map { String($0.id) }.joined(separator: ",")
        // TweetStore.create's statement: the author's counter, the tweet with a fresh id and the outbox row that refers
        // to it; each client writes as its own author, as each of our callers does.
        let script = """
            WITH author AS (
                UPDATE \(schema).users SET tweets_count = tweets_count + 1
                WHERE id = (ARRAY[\(authorArray)]::bigint[])[(:client_id)::int % \(callers) + 1]
                RETURNING id, username, followers_count
            ),
            inserted AS (
                INSERT INTO \(schema).tweets (id, user_id, text, in_reply_to_id, created_at)
                SELECT fresh.id, author.id, '\(TweetServiceHarness.tweetText(0))', NULL,
                    to_timestamp(((fresh.id >> 23) + \(TweeterID.epochMillis)) / 1000.0)
                FROM author CROSS JOIN LATERAL (SELECT \(schema).next_id() AS id) fresh
                RETURNING id
            ),
            event AS (
                INSERT INTO \(schema).outbox (tweet_id, author_username, author_followers)
                SELECT inserted.id, author.username, author.followers_count FROM inserted CROSS JOIN author
            )
            SELECT inserted.id, author.username FROM inserted CROSS JOIN author;

            """
        let pgbench = Pgbench(
            executable: servers.pgbench, url: harness.serverURLs[server], clients: callers, threads: 2, seconds: seconds
        )
        report()
        report(
            "## (a) tweets created per second: \(callers) concurrent callers, \(seconds) s each, shard \(shard) "
                + "(server \(server + 1)), \(servers.pgConnections) pool connections per server for ours")
        report()
        let raw = try await pgbench.run(script: script, name: "create", scratch: scratch)
        let client = harness.client
        let create: @Sendable (Int, Int) async throws -> Void = { worker, iteration in
            let tweet = NewTweet(authorID: authors[worker].id, text: TweetServiceHarness.tweetText(iteration))
            _ = try await client.call(CreateTweet.self, tweet)
        }
        // Warm-up with the callers doubling every half second, so that the pool opens its connections a few at a time
        // (64 connects at once on a busy machine can exceed libpq's connect timeout), then a second at full strength.
        var warming = 1
        while warming < callers {
            _ = await ClosedLoop.run(concurrency: warming, duration: .milliseconds(500), create)
            warming *= 2
        }
        _ = await ClosedLoop.run(concurrency: callers, duration: .seconds(1), create)
        let ours = LatencySummary(await ClosedLoop.run(concurrency: callers, duration: .seconds(seconds), create))
        let table = MarkdownTable(
            [
                "what", "round trips to PostgreSQL per tweet", "tweets", "tweets/s", "p50 ms", "p99 ms",
                "ours/raw tweets/s", "errors",
            ],
            rightAligned: [1, 2, 3, 4, 5, 6, 7]
        )
        table.row([
            "raw: pgbench, one INSERT…UPDATE…INSERT statement", "1", String(raw.summary.count), raw.summary.rate,
            raw.summary.p50Milliseconds, raw.summary.p99Milliseconds, "", String(raw.summary.errors),
        ])
        table.row([
            "ours: CreateTweet over Wire, grouped per shard", "1 a group", String(ours.count), ours.rate,
            ours.p50Milliseconds,
            ours.p99Milliseconds,
            ratio(ours.perSecond, raw.summary.perSecond), String(ours.errors),
        ])
        report()
        report("# raw: \(raw.commandLine)")
        // The script as run, with the author ids elided.
        let shown = script.replacingOccurrences(of: authorArray, with: "<\(callers) author ids>")
        report("# script:")
        report(shown.split(separator: "\n").map { "#   " + $0 }.joined(separator: "\n"))
        return raw.summary.errors + ours.errors
    }

    /// (b) Latency of fetching 100 tweets by id: `GetTweets` over Wire, for 100 ids on 100 shards and for 100 ids
    /// on one shard, against pgbench running TweetStore's query for the one-shard batch.
    /// Returns the number of failed calls and transactions.
    private func measureBatchGets(_ harness: TweetServiceHarness, scratch: ScratchDirectory) async throws -> Int {
        let spreadShards = (0..<100).map { $0 * 1024 / 100 + 3 }
        let spreadAuthors = try await harness.makeUsers(onShards: spreadShards)
        let spread = try await harness.makeTweets(1, by: spreadAuthors).map(\.id).shuffled()
        let oneShardAuthor = try await harness.makeUsers(1, onShard: shard)
        let oneShard = try await harness.makeTweets(100, by: oneShardAuthor).map(\.id).shuffled()
        let schema = ShardMap.schema(ofShard: shard)
        let server = harness.database.shardMap.server(ofShard: shard)
        let serverCount = Set(spreadShards.map(harness.database.shardMap.server(ofShard:))).count
        // TweetStore.tweets' statement for one shard, with the ids inline instead of a parameter.
        let script = """
            SELECT t.id, t.user_id, u.username, t.text, t.in_reply_to_id, (extract(epoch FROM t.created_at) * 1000)::bigint AS created_ms \
            FROM \(schema).tweets t JOIN \(schema).users u ON u.id = t.user_id \
            WHERE t.id = ANY('{\(oneShard.map(String.init).joined(separator: ","))}'::bigint[]);

            """
        report()
        report(
            "## (b) batch get of 100 tweets by id: \(getSeconds) s per cell; one-shard batch on shard \(shard) (server \(server + 1)); "
                + "spread batch on 100 shards over \(serverCount) servers")
        report()
        let table = MarkdownTable(
            [
                "what", "ids", "shards", "concurrency", "calls", "calls/s", "p50 ms", "p99 ms", "p50 ours/raw",
                "p99 ours/raw", "errors",
            ],
            rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        )
        var commandLines: [String] = []
        var errors = 0
        let client = harness.client
        for concurrency in getConcurrency {
            let pgbench = Pgbench(
                executable: servers.pgbench, url: harness.serverURLs[server], clients: concurrency,
                threads: min(concurrency, 2), seconds: getSeconds
            )
            let raw = try await pgbench.run(script: script, name: "get-\(concurrency)", scratch: scratch)
            commandLines.append(raw.commandLine)
            errors += raw.summary.errors
            table.row([
                "raw: pgbench, one SELECT … = ANY(100 ids)", "100", "1", String(concurrency), String(raw.summary.count),
                raw.summary.rate, raw.summary.p50Milliseconds, raw.summary.p99Milliseconds, "", "",
                String(raw.summary.errors),
            ])
            for (label, ids, shards) in [
                ("ours: GetTweets over Wire", oneShard, 1), ("ours: GetTweets over Wire", spread, 100),
            ] {
                let batch = IDList(ids: ids)
                let call: @Sendable (Int, Int) async throws -> Void = { _, _ in
                    let found = try await client.call(GetTweets.self, batch).tweets.count
                    guard found == ids.count else {
                        throw BenchmarkFailure("GetTweets found \(found) of \(ids.count) tweets")
                    }
                }
                _ = await ClosedLoop.run(concurrency: concurrency, duration: .milliseconds(500), call)
                let ours = LatencySummary(
                    await ClosedLoop.run(concurrency: concurrency, duration: .seconds(getSeconds), call))
                table.row([
                    label, "100", String(shards), String(concurrency), String(ours.count), ours.rate,
                    ours.p50Milliseconds,
                    ours.p99Milliseconds, ratio(Double(ours.p50Nanoseconds), Double(raw.summary.p50Nanoseconds)),
                    ratio(Double(ours.p99Nanoseconds), Double(raw.summary.p99Nanoseconds)), String(ours.errors),
                ])
                errors += ours.errors
            }
        }
        report()
        for line in commandLines {
            report("# raw: \(line)")
        }
        report("# script: \(script.prefix(150))… (100 ids)")
        return errors
    }
}
