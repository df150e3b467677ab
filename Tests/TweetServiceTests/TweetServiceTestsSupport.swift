import Foundation
import Logging
import Testing
import TweetService
import Wire
import WireTestSupport

/// The two real PostgreSQL servers that `scripts/test` starts, migrated once per test run with the default 1024
/// logical shards. Tests fail, not skip, when the servers are missing.
enum TestStore {
    static let servers: [String] = {
        guard let urls = ProcessInfo.processInfo.environment["TWEETER_PG_URLS"], !urls.isEmpty else {
            fatalError("TWEETER_PG_URLS is not set: run the tests through scripts/test, which starts PostgreSQL")
        }
        return urls.split(separator: ",").map(String.init)
    }()

    static let logger = Logger(label: "tweet-service-test")

    static func makeDatabase(connectionsPerServer: Int = 8) -> ShardedDatabase {
        ShardedDatabase(
            servers: servers, shardMap: ShardMap(logicalShards: 1024, servers: servers.count),
            connectionsPerServer: connectionsPerServer, logger: logger)
    }

    /// Shared by every test; the schema is migrated before the first use.
    static let database: ShardedDatabase = makeDatabase()
    private static let migration = Task { _ = try await SchemaMigrator(database: database, logger: logger).migrate() }

    static func migrated() async throws -> ShardedDatabase {
        try await migration.value
        return database
    }

    /// Cheap scrypt for tests (N = 2^10); the production default is checked separately.
    static let hasher = PasswordHasher(configuration: PasswordHasher.Configuration(logN: 10))

    static func handlers(
        relay: OutboxRelay? = nil, backpressure: FanOutBackpressure? = nil
    ) async throws -> TweetServiceHandlers {
        TweetServiceHandlers(database: try await migrated(), hasher: hasher, relay: relay, backpressure: backpressure)
    }

    /// A username no other test or run uses.
    static func uniqueName(_ prefix: String = "u") -> String {
        let suffix: UInt64 = .random(in: 0..<78_364_164_096)  // 36^7: seven base-36 digits
        return prefix + String(suffix, radix: 36)
    }
}

/// A Wire server running the TweetService's handlers on 127.0.0.1, and a client to it.
func withTweetService<Result: Sendable>(
    relay: OutboxRelay? = nil,
    backpressure: FanOutBackpressure? = nil,
    _ body: (AnyRoleClient) async throws -> Result
) async throws -> Result {
    let handlers = try await TestStore.handlers(relay: relay, backpressure: backpressure)
    let server = try await WireServer.bind(
        configuration: WireServerConfiguration(
            serverName: TweetServiceHandlers.serviceName, keys: TestServiceKeys.shared),
        router: handlers.router(), logger: TestStore.logger
    )
    let client = AnyRoleClient(
        endpoints: [WireEndpoint(host: "127.0.0.1", port: server.port)], logger: TestStore.logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        defer {
            client.closeConnections()
            group.cancelAll()
        }
        return try await body(client)
    }
}
