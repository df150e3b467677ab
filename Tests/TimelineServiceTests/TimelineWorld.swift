import Foundation
import Logging
import Testing
import TweetService
import Wire
import WireTestSupport

@testable import RedisCluster
@testable import TimelineService

/// A TweetService (on the real PostgreSQL servers) and a TimelineService (on the real Redis Cluster), each behind a
/// real Wire server on 127.0.0.1, wired together as in production. Fan-out workers are driven by the test, so that
/// it can stop them half way.
struct TimelineWorld: Sendable {
    let tweets: AnyRoleClient
    let timelines: AnyRoleClient
    let service: TimelineService
    let redis: RedisClient
    let database: ShardedDatabase
    let relay: OutboxRelay

    static let logger = LiveRedis.logger
    static let database: ShardedDatabase = {
        guard let urls = ProcessInfo.processInfo.environment["TWEETER_PG_URLS"], !urls.isEmpty else {
            fatalError("TWEETER_PG_URLS is not set: run the tests through scripts/test, which starts PostgreSQL")
        }
        let servers = urls.split(separator: ",").map(String.init)
        return ShardedDatabase(
            servers: servers, shardMap: ShardMap(logicalShards: 1024, servers: servers.count), logger: logger)
    }()
    private static let migration = Task { _ = try await SchemaMigrator(database: database, logger: logger).migrate() }
    static let hasher = PasswordHasher(configuration: PasswordHasher.Configuration(logN: 10))

    /// Runs `body` in a fresh world; `configuration` tunes the TimelineService.
    static func with<Result: Sendable>(
        _ configuration: TimelineConfiguration = TimelineConfiguration(),
        _ body: (TimelineWorld) async throws -> Result
    ) async throws -> Result {
        try await migration.value
        let redis = RedisClient(
            configuration: RedisClient.Configuration(mode: .cluster(seeds: try LiveRedis.seeds())), logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await redis.run() }
            defer { group.cancelAll() }
            // Events move when the test calls `settle()`, so the TweetService itself wakes no relay.
            let handlers = TweetServiceHandlers(database: database, hasher: hasher, relay: nil)
            let tweetServer = try await WireServer.bind(
                configuration: WireServerConfiguration(
                    serverName: TweetServiceHandlers.serviceName, keys: TestServiceKeys.shared),
                router: handlers.router(), logger: logger
            )
            group.addTask { try await tweetServer.run() }
            let tweetClient = client(port: tweetServer.port)
            let service = TimelineService(
                redis: redis, tweetService: tweetClient.client(.timelineService), configuration: configuration)
            try await service.queue.prepare()
            let timelineServer = try await WireServer.bind(
                configuration: WireServerConfiguration(
                    serverName: TimelineService.serviceName, keys: TestServiceKeys.shared),
                router: service.router(), logger: logger
            )
            group.addTask { try await timelineServer.run() }
            let timelineClient = client(port: timelineServer.port)
            let relay = OutboxRelay(database: database, logger: logger) { batch in
                _ = try await timelineClient.call(DeliverEvents.self, batch)
            }
            defer {
                tweetClient.closeConnections()
                timelineClient.closeConnections()
            }
            let world = TimelineWorld(
                tweets: tweetClient, timelines: timelineClient, service: service, redis: redis, database: database,
                relay: relay
            )
            return try await body(world)
        }
    }

    private static func client(port: Int) -> AnyRoleClient {
        AnyRoleClient(
            endpoints: [WireEndpoint(host: "127.0.0.1", port: port)], defaultTimeout: .seconds(60), logger: logger)
    }

    /// Delivers every event in the outboxes and works the fan-out queue until it is empty.
    func settle(consumer: String = "test-worker") async throws {
        await relay.drain(shards: Array(0..<1024))
        let workers = service.workers(consumer: consumer, logger: Self.logger)
        while try await workers.runOnce(consumer: consumer, count: 16) > 0 {}
    }

    func makeUser() async throws -> UserRecord {
        let suffix: UInt64 = .random(in: 0..<78_364_164_096)
        return try await tweets.call(
            CreateUser.self, Credentials(username: "t" + String(suffix, radix: 36), password: "password1"))
    }

    /// Makes each of `followers` follow `followee`.
    func follow(_ followee: UserRecord, by followers: [UserRecord]) async throws {
        for follower in followers {
            _ = try await tweets.call(Follow.self, FollowEdge(followerID: follower.id, followeeID: followee.id))
        }
    }

    func tweet(_ author: UserRecord, _ text: String) async throws -> TweetRecord {
        try await tweets.call(CreateTweet.self, NewTweet(authorID: author.id, text: text))
    }
}
