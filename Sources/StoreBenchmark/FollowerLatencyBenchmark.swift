import ArgumentParser
import BenchmarkSupport
import Logging
import RedisCluster
import Synchronization
import TimelineService
import TweetService
import Wire

/// `follower-latency`: how long a tweet takes to reach its followers' home timelines, end to end (CreateTweet →
/// outbox → relay → queue → fan-out), with nothing else running and while tweet creation runs at full speed.
struct FollowerLatencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follower-latency",
        abstract: "Time from CreateTweet until the last follower's home timeline holds the tweet, unloaded and loaded."
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Followers of the probe author (synthetic, all with a home timeline).")
    var followers: Int = 500

    @Option(help: "Probe tweets measured in each phase.")
    var probes: Int = 50

    @Option(help: "Concurrent tweet creators in the loaded phase, each tweeting as its own author.")
    var creators: Int = 16

    @Option(help: "Followers of each creator's author (synthetic, all with a home timeline).")
    var creatorFollowers: Int = 10

    @Option(help: "Fan-out workers in the in-process TimelineService.")
    var workers: Int = TimelineConfiguration().workers

    @Option(
        help: """
            The TweetService holds creations back (up to 500 ms each) while the oldest untaken fan-out job is older \
            than this, as the tweet-service's flag of the same name (milliseconds; 0 turns it off).
            """)
    var fanOutDelayLimitMillis: Int = 300

    @Option(help: "The logical shard of the probe author.")
    var shard: Int = 300

    func validate() throws {
        guard followers > 0, creatorFollowers > 0, probes > 0, creators > 0, workers > 0, (0..<1024).contains(shard)
        else {
            throw ValidationError("counts must be positive, --shard 0 to 1023")
        }
    }

    func run() async throws {
        let (logger, scratch) = try startBenchmark("follower-latency")
        defer { scratch.remove() }
        // The backpressure asks the in-process TimelineService, which starts after the TweetService it serves.
        let timelineService = LateTimelineService()
        let backpressure =
            fanOutDelayLimitMillis > 0
            ? FanOutBackpressure(
                configuration: FanOutBackpressure.Configuration(delayLimit: .milliseconds(fanOutDelayLimitMillis)),
                logger: logger
            ) { try await timelineService.fanOutDelay() } : nil
        try await TweetServiceHarness.with(servers, scratch: scratch, logger: logger, backpressure: backpressure) {
            tweets in
            try await TimelineServiceHarness.with(
                tweets: tweets, redisSeeds: servers.redis, configuration: TimelineConfiguration(workers: workers),
                runWorkers: true,
                logger: logger
            ) { timelines in
                timelineService.set(monitor: timelines.monitor, relay: timelines.relay)
                let pressure = Task { try await backpressure?.run() }
                defer { pressure.cancel() }
                let authors = try await tweets.makeUsers(onShards: (0...creators).map { (shard + $0) % 1024 })
                var homes: [Int64] = []
                var lastFollowers: [Int64] = []
                for (index, author) in authors.enumerated() {
                    let ids = try await tweets.addSyntheticFollowers(
                        index == 0 ? followers : creatorFollowers, to: author)
                    homes += ids
                    lastFollowers.append(ids[0])
                }
                _ = try await timelines.redis.pipelined(
                    homes.map { RedisCommand("SET", key: BenchmarkKeys.homeBuilt($0), "1", "EX", 3_600) })
                let probe = Probe(
                    author: authors[0], lastFollower: lastFollowers[0], tweets: tweets, timelines: timelines)
                // The relay runs as in a TweetService; the harness's TweetService has none, so each creation here
                // wakes it the way the service's handlers do after their commit.
                let relay = Task { try await timelines.relay.run() }
                defer { relay.cancel() }

                let unloaded = try await probe.measure(count: probes)
                let (loaded, creation, backlog) = try await measureUnderLoad(
                    probe: probe, creators: Array(authors.dropFirst()), tweets: tweets, timelines: timelines)
                report()
                report(
                    "## a \(followers)-follower author's tweet until its last follower's home holds it "
                        + "(in-process TweetService and TimelineService, \(workers) workers, WAIT for 1 replica, "
                        + (fanOutDelayLimitMillis > 0
                            ? "creation held back while the fan-out is over \(fanOutDelayLimitMillis) ms behind)"
                            : "no backpressure)")
                )
                report()
                let table = MarkdownTable(
                    ["phase", "probes", "p50 ms", "p99 ms", "creations/s beside", "queue after"],
                    rightAligned: [1, 2, 3, 4, 5])
                table.row([
                    "unloaded", String(unloaded.count), unloaded.p50Milliseconds, unloaded.p99Milliseconds, "0", "",
                ])
                table.row([
                    "\(creators) creators at full speed, each author with \(creatorFollowers) followers",
                    String(loaded?.count ?? 0),
                    loaded.map(\.p50Milliseconds) ?? "> 60 s", loaded.map(\.p99Milliseconds) ?? "> 60 s", creation.rate,
                    backlog,
                ])
                try await timelines.redis.deleteKeys(
                    homes.flatMap { [BenchmarkKeys.home($0), BenchmarkKeys.homeBuilt($0)] })
                try await tweets.clearOutboxes()
            }
        }
        report("# load average \(loadAverage()) at end")
    }

    /// Runs `creators` closed-loop tweet creators while probing; returns the probes, the creation rate and the
    /// fan-out queue's backlog once creation stopped; no probes when one of them did not arrive within a minute.
    private func measureUnderLoad(
        probe: Probe, creators: [UserRecord], tweets: TweetServiceHarness, timelines: TimelineServiceHarness
    ) async throws -> (LatencySummary?, LatencySummary, String) {
        let stop = StopSignal()
        async let creation = ClosedLoop.run(concurrency: creators.count, duration: .seconds(600)) { worker, index in
            guard !stop.isSet else { throw CancellationError() }
            _ = try await tweets.client.call(
                CreateTweet.self, NewTweet(authorID: creators[worker].id, text: "load \(index)"))
            timelines.relay.notify(shard: TweeterID.shard(of: creators[worker].id))
        }
        // Whatever the probes do, the creators stop: otherwise the `async let` would wait for their ten minutes.
        var loaded: LatencySummary?
        do {
            try await Task.sleep(for: .seconds(2))  // creation up to speed
            loaded = try await probe.measure(count: probes)
        } catch {
            report("# a probe under load failed: \(error)")
        }
        stop.set()
        var created = await creation
        (created.errors, created.firstError) = (0, nil)  // the stop itself
        let stats = try await timelines.monitor.call(ReadQueueStats.self, WireEmpty())
        let clock = ContinuousClock()
        let stopped = clock.now
        let drained = try await timelines.waitForIdleQueue(limit: .seconds(120))
        let drain =
            drained ? "drained in \(fixed((clock.now - stopped).inSeconds, decimals: 1)) s" : "not drained in 120 s"
        return (loaded, LatencySummary(created), "\(stats.waiting) waiting, \(stats.pending) pending; \(drain)")
    }

    /// Inserts `count` follower rows for `author` with made-up ids; the first id is on the edge written last.
}

/// Tweets as one author and times each until one follower's home timeline holds it.
private struct Probe: Sendable {
    let author: UserRecord
    let lastFollower: Int64
    let tweets: TweetServiceHarness
    let timelines: TimelineServiceHarness

    /// At most `count` probes, one after another, and none started after `limit`.
    func measure(count: Int, limit: Duration = .seconds(60)) async throws -> LatencySummary {
        var latencies: [UInt64] = []
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        for index in 0..<count where clock.now < deadline {
            let started = clock.now
            let tweet = try await tweets.client.call(
                CreateTweet.self, NewTweet(authorID: author.id, text: "probe \(index)"))
            timelines.relay.notify(shard: TweeterID.shard(of: author.id))
            while try await timelines.redis.send(BenchmarkKeys.holding(tweet.id, in: BenchmarkKeys.home(lastFollower)))
                .isNull
            {
                guard clock.now - started < .seconds(60) else {
                    throw BenchmarkFailure("probe \(index) did not reach the follower within 60 s")
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            latencies.append(UInt64((clock.now - started).nanoseconds))
            try await Task.sleep(for: .milliseconds(50))
        }
        return LatencySummary(latencies: latencies, perSecond: 0)
    }
}

/// A client set once the server it reaches has started.
private final class LateTimelineService: Sendable {
    private let value = Mutex<(monitor: WireClient, relay: OutboxRelay)?>(nil)

    func set(monitor: WireClient, relay: OutboxRelay) { value.withLock { $0 = (monitor, relay) } }

    /// How far behind the fan-out is, as a TweetService reckons it (``FanOutBackpressure/delay(of:relay:)``).
    func fanOutDelay() async throws -> Duration {
        guard let (monitor, relay) = value.withLock({ $0 }) else {
            throw BenchmarkFailure("the TimelineService is not up yet")
        }
        return try await FanOutBackpressure.delay(of: monitor, relay: relay)
    }
}

/// Tells the creators to stop: each throws on its next call, which ends its worker.
private final class StopSignal: Sendable {
    private let flag = Atomic(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }

    func set() { flag.store(true, ordering: .relaxed) }
}
