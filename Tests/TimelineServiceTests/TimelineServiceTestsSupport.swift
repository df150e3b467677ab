import Foundation
import Logging
import Testing
import WireTestSupport

@testable import RedisCluster
@testable import TimelineService

/// The live Redis Cluster the integration tests use, from `TWEETER_REDIS_CLUSTER` (`scripts/infra env`).
enum LiveRedis {
    static let variable = "TWEETER_REDIS_CLUSTER"

    /// The seeds of the live cluster.
    /// - Throws: ``MissingRedisCluster`` when the variable is missing or unreadable, which fails the test: these
    ///   tests must not skip silently.
    static func seeds() throws -> [RedisNodeAddress] {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else {
            throw MissingRedisCluster(problem: "\(variable) is not set")
        }
        guard let seeds = RedisNodeAddress.list(text) else {
            throw MissingRedisCluster(problem: "\(variable)=\(text) is not a list of host:port")
        }
        return seeds
    }

    /// A prefix no other test run uses, so that runs never see each other's keys.
    static func uniquePrefix(_ test: String) -> String {
        "test:redis:\(test):\(UUID().uuidString.prefix(8)):"
    }

    static let logger: Logger = {
        var logger = Logger(label: "redis-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a client on the live cluster that is running as a service, and shuts it down after.
    static func withClusterClient<T: Sendable>(
        connectionsPerNode: Int = 2,
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        let configuration = RedisClient.Configuration(
            mode: .cluster(seeds: try seeds()), connectionsPerNode: connectionsPerNode
        )
        return try await withClient(RedisClient(configuration: configuration, logger: logger), body)
    }

    /// Runs `body` with a standalone-mode client on one node: the tests' way to talk to a particular node.
    static func withNodeClient<T: Sendable>(
        _ node: RedisNodeAddress,
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        let configuration = RedisClient.Configuration(mode: .standalone(node), connectionsPerNode: 1)
        return try await withClient(RedisClient(configuration: configuration, logger: logger), body)
    }

    private static func withClient<T: Sendable>(
        _ client: RedisClient,
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            do {
                let result = try await body(client)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}

/// Why a live Redis test cannot run.
struct MissingRedisCluster: Error, CustomStringConvertible {
    var problem: String
    var description: String {
        "\(problem): this test needs the Redis Cluster; run `scripts/infra up` and `eval \"$(scripts/infra env)\"`"
    }
}

/// ``WireTestSupport/eventually(within:every:_:)`` for conditions that may throw while a fault lasts (a throw counts
/// as not yet); records an issue naming `what` if it never holds within `seconds`.
func eventually(
    _ what: String, seconds: Int = 60, every interval: Duration = .milliseconds(200),
    _ condition: () async throws -> Bool
) async throws {
    let held = try await WireTestSupport.eventually(within: .seconds(seconds), every: interval) {
        (try? await condition()) == true
    }
    if !held {
        Issue.record("\(what) did not happen within \(seconds) s")
    }
}

extension TimelineKeys {
    /// A command whose reply is null when the timeline `key` does not hold `tweetID`: `ZSCORE` on the public
    /// timeline (the one sorted set), `LPOS` on homes and profiles (lists, ``TimelineScripts``).
    static func holding(_ tweetID: Int64, in key: String) -> RedisCommand {
        RedisCommand(key == publicTimeline ? "ZSCORE" : "LPOS", key: key, member(tweetID))
    }
}
