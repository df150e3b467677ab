import ArgumentParser
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import ServiceRuntime
import TweetService
import Wire

/// `tweet-service`: serves the tweet store over Wire; `tweet-service migrate` brings every shard's schema up to date;
/// `move-shard` and `rebalance` move logical shards between PostgreSQL servers while it serves.
@main
struct TweetServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tweet-service",
        abstract: "The source of truth: users, sessions, tweets and the follow graph on sharded PostgreSQL.",
        subcommands: [Serve.self, Migrate.self, MoveShard.self, Rebalance.self, ReadMetricsCommand.self],
        defaultSubcommand: Serve.self
    )
}

struct StoreOptions: ParsableArguments {
    @Option(
        help: """
            Comma-separated libpq URLs of the physical servers, in shard-map order. The first holds the shard catalog, \
            which names the servers from then on (moves and rebalances add servers to it).
            """)
    var postgres: String = "postgresql://postgres@127.0.0.1:55431/tweeter,postgresql://postgres@127.0.0.1:55432/tweeter"

    @Option(help: "Logical shards spread over the servers (fixed for the life of the data).")
    var logicalShards: Int = 1024

    @Option(help: "Connections (and threads) per PostgreSQL server.")
    var connectionsPerServer: Int = 8

    var servers: [String] { postgres.split(separator: ",").map(String.init) }

    /// The servers and shard map of the catalog (created on first use).
    /// - Parameter replicas: by server number, as `--postgres` lists the servers (the catalog's first servers).
    func database(replicas: ReplicaReads? = nil, logger: Logger) async throws -> ShardedDatabase {
        try await ShardedDatabase.open(
            servers: servers, logicalShards: logicalShards, connectionsPerServer: connectionsPerServer,
            replicas: replicas, logger: logger)
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply schema migrations to every logical shard.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "tweet-service")
        let database = try await store.database(logger: logger)
        try await SchemaMigrator(database: database, logger: logger).migrate()
        try await database.shutdown()
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the TweetService over Wire.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var replicaOptions: ReplicaOptions
    @OptionGroup var serviceKey: ServiceKeyOptions
    @OptionGroup var wireTLS: WireTLSOptions

    @Option(help: "host:port to listen on.")
    var listen: String = "127.0.0.1:7100"

    @Option(help: "Comma-separated host:port list of TimelineService instances that receive events.")
    var timelineService: String = "127.0.0.1:7200"

    @Option(
        help: """
            Hold tweet creation back (up to 500 ms each) while the oldest fan-out job no worker has taken, or the \
            oldest write not yet delivered from the outbox, has waited longer than this (milliseconds; 0 turns it off).
            """)
    var fanOutDelayLimitMillis: Int = 300

    @Option(help: "log2 of scrypt's N for new password hashes (17 is OWASP's minimum).")
    var scryptLogN: Int = 17

    @Option(help: "Seconds an unused session token stays valid (30 days by default).")
    var sessionLifetimeSeconds: Int = 30 * 86_400

    @Option(help: "Least seconds between two renewals of a session in use (each renewal is one PostgreSQL write).")
    var sessionRenewalSeconds: Int = 86_400

    func validate() throws {
        guard fanOutDelayLimitMillis >= 0 else {
            throw ValidationError("--fan-out-delay-limit-millis must be 0 (off) or positive")
        }
        guard sessionLifetimeSeconds > 0, (0...sessionLifetimeSeconds).contains(sessionRenewalSeconds) else {
            throw ValidationError("--session-lifetime-seconds must be positive and --session-renewal-seconds within it")
        }
    }

    func run() async throws {
        let process = ServiceProcess.bootstrap(label: "tweet-service")
        let logger = process.logger
        guard let endpoint = WireEndpoint(listen), let timelines = WireEndpoint.list(timelineService) else {
            throw ValidationError("--listen and --timeline-service take host:port")
        }
        let keys = try serviceKey.keys()
        let replicas = try replicaOptions.reads(primaries: store.servers, logger: logger)
        let database = try await store.database(replicas: replicas, logger: logger)
        try await SchemaMigrator(database: database, logger: logger).migrate()
        let timelineClient = WireClient(
            configuration: WireClientConfiguration(
                endpoints: timelines, role: .tweetService, keys: keys, transportSecurity: try wireTLS.clientSecurity()
            ), logger: logger
        )
        // 5 s: a delivery applies its created tweets' fan-out (up to 20,000 homes) before it is answered, with a
        // replica's confirmation (up to 1 s), and queues them instead (one more) when that fails.
        let relay = OutboxRelay(database: database, logger: logger) { batch in
            _ = try await timelineClient.call(DeliverEvents.self, batch, timeout: .seconds(5))
        }
        let hasher = PasswordHasher(configuration: PasswordHasher.Configuration(logN: scryptLogN))
        let sessions = SessionPolicy(
            lifetime: .seconds(sessionLifetimeSeconds), renewalInterval: .seconds(sessionRenewalSeconds))
        let backpressure =
            fanOutDelayLimitMillis > 0
            ? FanOutBackpressure(
                configuration: FanOutBackpressure.Configuration(delayLimit: .milliseconds(fanOutDelayLimitMillis)),
                logger: logger
            ) { try await FanOutBackpressure.delay(of: timelineClient, relay: relay) } : nil
        let handlers = TweetServiceHandlers(
            database: database, hasher: hasher, relay: relay, backpressure: backpressure, sessions: sessions)
        var router = handlers.router()
        router.registerMetrics(process.metricsExposition)
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(
                host: endpoint.host, port: endpoint.port, serverName: TweetServiceHandlers.serviceName, keys: keys,
                transportSecurity: try wireTLS.serverSecurity()
            ),
            router: router,
            logger: logger
        )
        let repairer = FollowRepairer(graph: FollowGraph(database: database), logger: logger)
        var services: [any Service] = [server, relay, repairer, ShardMapWatcher(database: database, logger: logger)]
        if let backpressure {
            services.append(backpressure)
        }
        if let replicas {
            services.append(ReplicaMonitor(reads: replicas))
        }
        try await process.run(services)
        try await database.shutdown()
        try await replicas?.shutdown()
        try await hasher.shutdown()
    }
}
