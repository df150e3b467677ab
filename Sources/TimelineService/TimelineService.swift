import Logging
import RedisCluster
import Wire

/// The TimelineService in one value: its Wire methods and the fan-out workers that every instance runs.
public struct TimelineService: Sendable {
    /// The name this service gives in handshakes and health checks.
    public static let serviceName = "timeline-service"

    public let configuration: TimelineConfiguration
    let queue: FanOutQueue
    let cache: TweetCache
    let reader: TimelineReader
    let processor: FanOutProcessor
    let delivery: EventDelivery

    /// - Parameters:
    ///   - redis: the Redis Cluster (or one server) that holds timelines, cache and queue.
    ///   - tweetService: the TweetService, for hydration misses, follower pages and rebuilds.
    public init(
        redis: RedisClient, tweetService: WireClient, configuration: TimelineConfiguration = TimelineConfiguration()
    ) {
        self.configuration = configuration
        let cache = TweetCache(redis: redis, tweetService: tweetService, configuration: configuration)
        self.cache = cache
        let queue = FanOutQueue(redis: redis, configuration: configuration)
        self.queue = queue
        self.reader = TimelineReader(
            redis: redis, tweetService: tweetService, cache: cache, configuration: configuration,
            rebuilds: RebuildFlights(limit: configuration.maxConcurrentRebuilds),
            renewals: RenewalGate(limit: configuration.maxConcurrentRebuilds)
        )
        let processor = FanOutProcessor(
            redis: redis, tweetService: tweetService, cache: cache, configuration: configuration,
            wakeUps: queue.wakeUps)
        self.processor = processor
        self.delivery = EventDelivery(queue: queue, processor: processor, cache: cache, configuration: configuration)
    }

    /// The workers to run beside the server; `consumer` names this instance in the queue (unique per instance).
    public func workers(consumer: String, logger: Logger) -> FanOutWorkers {
        FanOutWorkers(
            queue: queue, processor: processor, configuration: configuration, consumer: consumer, logger: logger)
    }

    public func router() -> WireRouter {
        var router = WireRouter()
        router.registerHealthCheck(service: Self.serviceName)
        register(&router, DeliverEvents.self) { service, batch, logger in
            try await service.delivery.accept(batch.events, logger: logger)
            return WireEmpty()
        }
        register(&router, ReadPublicTimeline.self) { service, query, _ in
            try await service.reader.publicTimeline(query)
        }
        register(&router, ReadHomeTimeline.self) { service, query, _ in try await service.reader.home(query) }
        register(&router, ReadQueueStats.self) { service, _, _ in try await service.queue.stats() }
        register(&router, ReadFanOutDelay.self) { service, _, _ in try await service.queue.delay() }
        return router
    }

    private func register<Method: WireMethod>(
        _ router: inout WireRouter,
        _ method: Method.Type,
        _ handler: @escaping @Sendable (TimelineService, Method.Request, Logger) async throws -> Method.Response
    ) {
        router.register(method) { request, context in
            do {
                return try await handler(self, request, context.logger)
            } catch let error as RedisError {
                context.logger.warning("redis error", metadata: ["error": "\(error)"])
                throw WireError(.unavailable, reason: "redis_unavailable", "the timeline store is unavailable")
            }
        }
    }
}
