import ArgumentParser
import Logging
import Metrics
import Prometheus
import RedisCluster
import ServiceLifecycle
import ServiceRuntime
import TimelineService
import Wire

/// `timeline-service`: serves timelines over Wire and works the fan-out queue.
@main
struct TimelineServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline-service",
        abstract: "Materialized timelines, the tweet cache and the fan-out, on a Redis Cluster."
    )

    @OptionGroup var serviceKey: ServiceKeyOptions
    @OptionGroup var wireTLS: WireTLSOptions

    @Option(help: "host:port to listen on.")
    var listen: String = "127.0.0.1:7200"

    @Option(help: "Comma-separated host:port seeds of the Redis Cluster.")
    var redis: String = "127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003"

    @Flag(help: "Treat --redis as one standalone server instead of a cluster.")
    var standaloneRedis = false

    @Option(help: "Comma-separated host:port list of TweetService instances.")
    var tweetService: String = "127.0.0.1:7100"

    @Option(help: "Entries kept per home timeline.")
    var homeCapacity: Int = 800

    @Option(help: "Fan-out jobs worked on at once by this instance; 0 serves reads and queues events but works no job.")
    var workers: Int = 4

    @Option(
        help:
            "Replicas that must confirm queued events and fan-out writes before they are acknowledged (WAIT); 0 for a Redis without replicas. Default: 1 for a cluster, 0 with --standalone-redis."
    )
    var replicaAcks: Int?

    @Option(help: "Milliseconds a master waits for those replicas before the write counts as failed.")
    var replicaTimeoutMs: Int = 1000

    @Option(
        help:
            "Followers from which an author's tweets are merged into homes at read time instead of fanned out; 0 fans out every author (benchmarks)."
    )
    var celebrityThreshold: Int64 = 100_000

    func run() async throws {
        let process = ServiceProcess.bootstrap(label: "timeline-service")
        let logger = process.logger
        guard let endpoint = WireEndpoint(listen), let tweetEndpoints = WireEndpoint.list(tweetService),
            let seeds = RedisNodeAddress.list(redis), let firstSeed = seeds.first
        else {
            throw ValidationError("--listen, --redis and --tweet-service take host:port lists")
        }
        let keys = try serviceKey.keys()
        let redisClient = RedisClient(
            configuration: RedisClient.Configuration(
                mode: standaloneRedis ? .standalone(firstSeed) : .cluster(seeds: seeds)),
            logger: logger
        )
        let tweets = WireClient(
            configuration: WireClientConfiguration(
                endpoints: tweetEndpoints, role: .timelineService, keys: keys,
                transportSecurity: try wireTLS.clientSecurity()
            ), logger: logger
        )
        var configuration = TimelineConfiguration()
        configuration.homeCapacity = homeCapacity
        configuration.workers = workers
        configuration.celebrityThreshold = celebrityThreshold > 0 ? celebrityThreshold : nil
        let acks = replicaAcks ?? (standaloneRedis ? 0 : 1)
        configuration.replication =
            acks > 0 ? RedisReplication(replicas: acks, timeout: .milliseconds(replicaTimeoutMs)) : nil
        let service = TimelineService(redis: redisClient, tweetService: tweets, configuration: configuration)
        var router = service.router()
        router.registerMetrics(process.metricsExposition)
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(
                host: endpoint.host, port: endpoint.port, serverName: TimelineService.serviceName, keys: keys,
                transportSecurity: try wireTLS.serverSecurity()
            ),
            router: router,
            logger: logger
        )
        let consumer = "\(endpoint.host):\(server.port)"
        try await process.run([redisClient, server, service.workers(consumer: consumer, logger: logger)])
    }
}
