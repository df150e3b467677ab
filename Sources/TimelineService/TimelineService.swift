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

    /// - Parameters:
    ///   - redis: the Redis Cluster (or one server) that holds timelines, cache and queue.
    ///   - tweetService: the TweetService, for hydration misses, follower pages and rebuilds.
    public init(
        redis: RedisClient, tweetService: WireClient, configuration: TimelineConfiguration = TimelineConfiguration()
    ) {
        self.configuration = configuration
        let cache = TweetCache(redis: redis, tweetService: tweetService, configuration: configuration)
        self.cache = cache
        self.queue = FanOutQueue(redis: redis, configuration: configuration)
        self.reader = TimelineReader(
            redis: redis, tweetService: tweetService, cache: cache, configuration: configuration,
            rebuilds: RebuildFlights(limit: configuration.maxConcurrentRebuilds),
            renewals: RenewalGate(limit: configuration.maxConcurrentRebuilds)
        )
        self.processor = FanOutProcessor(
            redis: redis, tweetService: tweetService, cache: cache, configuration: configuration)
    }

    /// The workers to run beside the server; `consumer` names this instance in the queue (unique per instance).
    public func workers(consumer: String, logger: Logger) -> FanOutWorkers {
        FanOutWorkers(
            queue: queue, processor: processor, configuration: configuration, consumer: consumer, logger: logger)
    }

    public func router() -> WireRouter {
        var router = WireRouter()
        router.registerHealthCheck(service: Self.serviceName)
        register(&router, DeliverEvents.self) { service, batch in
            // Acknowledged once queued: the queue is durable, and the work is done later by any instance. A delete's
            // tombstone and its deletion-log entries are written before the acknowledgement, so a deleted tweet is
            // hidden everywhere from then on.
            let deleted = batch.events.compactMap { event -> Int64? in
                if case .tweetDeleted(let tweetID, _) = event.change { return tweetID }
                return nil
            }
            try await service.queue.enqueue(
                FanOutJob.entries(queuing: batch.events),
                after: service.cache.storeCommands([], tombstones: deleted)
            )
            // Announced to every instance's in-process cache only once the tombstones hold (LocalTweetCache).
            if !deleted.isEmpty {
                _ = try await service.cache.redis.pipeline(
                    DeletionLog.appendCommands(deleted), replicatedTo: service.configuration.replication)
            }
            return WireEmpty()
        }
        register(&router, ReadPublicTimeline.self) { try await $0.reader.publicTimeline($1) }
        register(&router, ReadHomeTimeline.self) { try await $0.reader.home($1) }
        register(&router, ReadQueueStats.self) { service, _ in try await service.queue.stats() }
        register(&router, ReadFanOutDelay.self) { service, _ in try await service.queue.delay() }
        return router
    }

    private func register<Method: WireMethod>(
        _ router: inout WireRouter,
        _ method: Method.Type,
        _ handler: @escaping @Sendable (TimelineService, Method.Request) async throws -> Method.Response
    ) {
        router.register(method) { request, context in
            do {
                return try await handler(self, request)
            } catch let error as RedisError {
                context.logger.warning("redis error", metadata: ["error": "\(error)"])
                throw WireError(.unavailable, reason: "redis_unavailable", "the timeline store is unavailable")
            }
        }
    }
}
