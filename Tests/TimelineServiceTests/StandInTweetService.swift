import Synchronization
import Wire
import WireTestSupport

@testable import RedisCluster
@testable import TimelineService

/// Runs `body` with a TimelineService on `redis` whose TweetService is a stand-in on a real Wire server: it answers
/// every `list_follower_ids` and the first author's page of every `list_first_follower_pages` (the others empty)
/// with what `listFollowers` returns, which is given the service's tweet cache, so that a test can act between a
/// fan-out's own checks and its writes.
func withStandInTweetService(
    redis: RedisClient, configuration: TimelineConfiguration = TimelineConfiguration(),
    listFollowers: @escaping @Sendable (TweetCache) async throws -> IDList,
    _ body: (TimelineService) async throws -> Void
) async throws {
    // The handlers need the service's cache, which needs the stand-in's port: it is filled in once bound.
    let slot = CacheSlot()
    let answer: @Sendable () async throws -> IDList = {
        guard let cache = slot.cache.withLock({ $0 }) else { throw CancellationError() }
        return try await listFollowers(cache)
    }
    var router = WireRouter()
    router.register(ListFollowerIDs.self) { _, _ in try await answer() }
    router.register(ListFirstFollowerPages.self) { query, _ in
        IDLists(lists: [try await answer()] + query.userIDs.dropFirst().map { _ in IDList(ids: []) })
    }
    let server = try await WireServer.bind(
        configuration: WireServerConfiguration(serverName: "tweet-stand-in", keys: TestServiceKeys.shared),
        router: router, logger: LiveRedis.logger)
    let running = Task { try await server.run() }
    let client = WireClient(
        configuration: WireClientConfiguration(
            endpoints: [WireEndpoint(host: "127.0.0.1", port: server.port)], role: .timelineService,
            keys: TestServiceKeys.shared),
        logger: LiveRedis.logger)
    defer {
        client.closeConnections()
        server.shutdownGracefully()
        running.cancel()
    }
    let service = TimelineService(redis: redis, tweetService: client, configuration: configuration)
    slot.cache.withLock { $0 = service.cache }
    try await body(service)
}

/// Where a stand-in's handlers find a cache made after them.
private final class CacheSlot: Sendable {
    let cache = Mutex<TweetCache?>(nil)
}
