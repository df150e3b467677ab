import Foundation
import Logging
import RedisCluster
import TimelineService
import TweetService
import Wire

/// A TimelineService as production runs it (router behind a `WireServer` on 127.0.0.1, on the shared Redis
/// Cluster, calling the benchmark's TweetService over Wire), an outbox relay that delivers to it over Wire, and,
/// when asked, its fan-out workers, all in this process.
struct TimelineServiceHarness: Sendable {
    let redis: RedisClient
    /// Reads timelines as the Gateway does.
    let client: WireClient
    /// Reads the queue's statistics as an operator's tool does.
    let monitor: WireClient
    let relay: OutboxRelay

    /// Runs `body` with the service up; stops the workers, the server and the Redis client afterwards.
    ///
    /// - Parameter runWorkers: whether to run fan-out workers. The fan-out queue is shared by every TimelineService on
    ///   the cluster, so workers are only started when the benchmark needs them, and not at all (the run fails with
    ///   a ``BenchmarkFailure`` naming them) while another instance's workers read the queue.
    static func with<Result: Sendable>(
        tweets: TweetServiceHarness,
        redisSeeds: String,
        configuration: TimelineConfiguration,
        runWorkers: Bool,
        logger: Logger,
        _ body: (TimelineServiceHarness) async throws -> Result
    ) async throws -> Result {
        guard let redisConfiguration = RedisClient.Configuration(clusterSeeds: redisSeeds) else {
            throw BenchmarkFailure("--redis takes a comma-separated host:port list")
        }
        let redis = RedisClient(configuration: redisConfiguration, logger: logger)
        let service = TimelineService(
            redis: redis, tweetService: tweets.timelineServiceClient, configuration: configuration)
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(serverName: TimelineService.serviceName, keys: tweets.keys),
            router: service.router(), logger: logger
        )
        let client = WireClient.loopback(port: server.port, role: .gateway, keys: tweets.keys, logger: logger)
        let monitor = WireClient.loopback(port: server.port, role: .operator, keys: tweets.keys, logger: logger)
        let relayClient = WireClient.loopback(port: server.port, role: .tweetService, keys: tweets.keys, logger: logger)
        let relay = OutboxRelay(database: tweets.database, logger: logger) { batch in
            _ = try await relayClient.call(DeliverEvents.self, batch)
        }
        let background = Task {
            await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await redis.run() }
                group.addTask { try await server.run() }
                await logFailures(of: &group, logger: logger)
            }
        }
        // Another TimelineService's workers on the cluster (`scripts/up`'s) would take this benchmark's jobs.
        var refusal: (any Error)?
        if runWorkers {
            do {
                let others = try await activeQueueConsumers(redis: redis, within: .seconds(5))
                if !others.isEmpty {
                    refusal = BenchmarkFailure(
                        "fan-out workers of another TimelineService read the queue (\(others.joined(separator: ", "))): "
                            + "they would take this benchmark's jobs; stop them first (scripts/down)")
                }
            } catch {
                refusal = error
            }
        }
        let startWorkers = runWorkers && refusal == nil
        // Workers stop first, while Redis is still up, so that none is cut off half way through a job.
        let consumer = "store-benchmark-\(getpid())"
        let workers = Task {
            guard startWorkers else { return }
            do {
                try await service.workers(consumer: consumer, logger: logger).run()
            } catch {
                logger.error("fan-out workers stopped", metadata: ["error": "\(error)"])
            }
        }
        let outcome: Swift.Result<Result, any Error>
        if let refusal {
            outcome = .failure(refusal)
        } else {
            do {
                outcome = .success(
                    try await body(TimelineServiceHarness(redis: redis, client: client, monitor: monitor, relay: relay))
                )
            } catch {
                outcome = .failure(error)
            }
        }
        workers.cancel()
        await workers.value
        if startWorkers {
            await removeConsumers((0..<configuration.workers).map { "\(consumer)-\($0)" }, redis: redis, logger: logger)
        }
        for wireClient in [client, monitor, relayClient] {
            wireClient.closeConnections()
        }
        server.shutdownGracefully()
        background.cancel()
        await background.value
        return try outcome.get()
    }

    /// The consumers of the shared fan-out queue that read it within the last `window`, by name: the workers of
    /// another TimelineService on the cluster (an idle worker reads every 160 ms at most). Streams or groups that do
    /// not exist yet have none.
    static func activeQueueConsumers(redis: RedisClient, within window: Duration) async throws -> [String] {
        let replies = try await redis.pipelineReplies(
            FanOutStreams.keys.map { stream in
                RedisCommand(
                    arguments: ["XINFO", "CONSUMERS", stream, FanOutStreams.group].map { Array($0.utf8) },
                    keyPositions: [2])
            })
        var active: Set<String> = []
        for consumer in replies.compactMap(\.array).joined() {
            let fields = consumer.array ?? []
            var name: String?
            var idle: Int64?
            for index in stride(from: 0, to: fields.count - 1, by: 2) {
                switch fields[index].string {
                case "name": name = fields[index + 1].string
                case "idle": idle = fields[index + 1].integer
                default: break
                }
            }
            if let name, let idle, idle < window.milliseconds {
                active.insert(name)
            }
        }
        return active.sorted()
    }

    /// Takes the workers' consumer names out of the shared queue's consumer group, each only if it holds no
    /// unacknowledged job (those stay for another instance to reclaim).
    private static func removeConsumers(_ names: [String], redis: RedisClient, logger: Logger) async {
        for name in names {
            do {
                for stream in FanOutStreams.keys {
                    let pending = try await redis.send(
                        RedisCommand("XPENDING", key: stream, FanOutStreams.group, "-", "+", 1, name))
                    if pending.array?.isEmpty == true {
                        _ = try await redis.send(
                            RedisCommand(
                                arguments: ["XGROUP", "DELCONSUMER", stream, FanOutStreams.group, name].map {
                                    Array($0.utf8)
                                },
                                keyPositions: [2]
                            )
                        )
                    }
                }
            } catch {
                logger.warning(
                    "cannot remove fan-out consumer", metadata: ["consumer": "\(name)", "error": "\(error)"])
            }
        }
    }

    private static func logFailures(of group: inout ThrowingTaskGroup<Void, any Error>, logger: Logger) async {
        while let next = await group.nextResult() {
            if case .failure(let error) = next, !(error is CancellationError) {
                logger.error("timeline service stopped", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Waits until the shared fan-out queue has no waiting and no unacknowledged job, or `limit` passes; returns
    /// whether it did. Other sessions' jobs in the queue would compete with ours for the workers.
    func waitForIdleQueue(limit: Duration, polling interval: Duration = .milliseconds(100)) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let stats = try await monitor.call(ReadQueueStats.self, WireEmpty())
            if stats.waiting == 0 && stats.pending == 0 {
                return true
            }
            try await Task.sleep(for: interval)
        }
        return false
    }
}
