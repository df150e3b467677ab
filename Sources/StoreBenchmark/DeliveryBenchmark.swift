import ArgumentParser
import BenchmarkSupport
import Logging
import RedisCluster
import TimelineService
import TweetService
import Wire

/// `delivery`: events moved from an outbox into the fan-out queue per second (`OutboxRelay` → `deliver_events` →
/// `XADD`), without and with `WAIT` for a replica, beside redis-benchmark's `XADD` on one node in the same run.
struct DeliveryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delivery",
        abstract:
            "Outbox events delivered into the fan-out queue per second, without and with WAIT, against XADD in redis-benchmark."
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Tweets (one event each) queued in the outbox before each timed drain.")
    var events: Int = 20_000

    @Option(help: "Requests in the redis-benchmark baseline (-n).")
    var baselineRequests: Int = 200_000

    @Option(help: "The logical shard of the author.")
    var shard: Int = 200

    func validate() throws {
        guard events > 0, baselineRequests > 0, (0..<1024).contains(shard) else {
            throw ValidationError("counts must be positive, --shard 0 to 1023")
        }
    }

    func run() async throws {
        let (logger, scratch) = try startBenchmark("delivery")
        defer { scratch.remove() }
        guard let seed = RedisNodeAddress.list(servers.redis)?.first else {
            throw BenchmarkFailure("--redis names no node")
        }
        try await TweetServiceHarness.with(servers, scratch: scratch, logger: logger) { tweets in
            let author = try await tweets.makeUsers(1, onShard: shard)[0]
            let table = MarkdownTable(
                ["what", "events", "seconds", "events/s", "ours/raw"], rightAligned: [1, 2, 3, 4])
            var raw: RedisBenchmark.Result?
            for replication in [nil, RedisReplication()] as [RedisReplication?] {
                _ = try await tweets.makeTweets(events, by: [author], concurrency: 32)
                // The queue's intake is measured: every event queued, created tweets too (they are applied on
                // delivery by default, see EventDelivery).
                var configuration = TimelineConfiguration(applyCreationsOnDelivery: false)
                configuration.replication = replication
                let elapsed = try await TimelineServiceHarness.with(
                    tweets: tweets, redisSeeds: servers.redis, configuration: configuration, runWorkers: false,
                    logger: logger
                ) { timelines in
                    if raw == nil {
                        let key = try await timelines.redis.key(prefix: "stbench:xadd:", on: seed)
                        raw = try await RedisBenchmark(
                            executable: servers.redisBenchmark, host: seed.host, port: seed.port, clients: 16,
                            requests: baselineRequests, pipeline: 1
                        ).run(["xadd", key, "*", "job", String(repeating: "x", count: 120)], scratch: scratch)
                        try await timelines.redis.deleteKeys([key])
                    }
                    let clock = ContinuousClock()
                    let started = clock.now
                    await timelines.relay.drain(shards: [shard])
                    return clock.now - started
                }
                // The queued create events (an author without followers) are worked off before the next round.
                try await TimelineServiceHarness.with(
                    tweets: tweets, redisSeeds: servers.redis, configuration: configuration, runWorkers: true,
                    logger: logger
                ) { timelines in
                    _ = try await timelines.waitForIdleQueue(limit: .seconds(120))
                }
                let perSecond = Double(events) / elapsed.inSeconds
                let label = replication.map { "ours, WAIT for \($0.replicas) replica" } ?? "ours, no WAIT"
                table.row([
                    "\(label): relay → deliver_events (500 per batch) → XADD", String(events),
                    fixed(elapsed.inSeconds, decimals: 2),
                    String(Int(perSecond.rounded())), raw.map { ratio(perSecond, $0.summary.perSecond) } ?? "",
                ])
            }
            if let raw {
                table.row([
                    "raw: redis-benchmark XADD, one stream on \(seed), 16 clients, no pipelining",
                    String(baselineRequests),
                    fixed(Double(baselineRequests) / raw.summary.perSecond, decimals: 2), raw.summary.rate, "",
                ])
                report()
                report("# raw: \(raw.commandLine)")
            }
            try await tweets.clearOutboxes()
        }
        report("# load average \(loadAverage()) at end")
    }
}
