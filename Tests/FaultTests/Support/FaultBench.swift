import Foundation
import HTTPTestSupport

/// Everything a fault test works with: the running system, a connection to its API, PostgreSQL and Redis.
struct FaultBench {
    let system: SystemUnderTest
    let api: TweeterAPI
    let store: TruthStore
    let redis: RedisProbe

    /// The invariants over `users`, with `deleted` tweets (id → author).
    func invariants(_ users: [Account], deleted: [Int64: Int64] = [:]) -> Invariants {
        Invariants(store: store, redis: redis, users: users, deleted: deleted)
    }
}

/// Starts the system, runs `body` on a bench around it, and stops every process whatever happens (keeping the logs
/// if `body` threw, or always when `TWEETER_KEEP_LOGS` is set).
/// - Parameters:
///   - postgres: the TweetService's `--postgres` and the store the invariants read; `TWEETER_PG_URLS` unless given.
///   - timelineServiceArguments: more arguments for each TimelineService, by index.
func withSystem<T: Sendable>(
    postgres: String? = nil, tweetServiceArguments: [String] = [], timelineServiceArguments: [[String]] = [],
    store: TruthStore? = nil, _ body: (FaultBench) async throws -> T
) async throws -> T {
    let store = try store ?? TruthStore.shared()
    let redis = try RedisProbe.cluster()
    defer { redis.close() }
    let system = try await SystemUnderTest.start(
        postgres: postgres, tweetServiceArguments: tweetServiceArguments,
        timelineServiceArguments: timelineServiceArguments)
    do {
        let result = try await HTTPSConnection.with(port: system.gatewayPort, tls: system.tls) { connection in
            try await body(
                FaultBench(system: system, api: TweeterAPI(connection: connection), store: store, redis: redis))
        }
        await system.stop(keepLogs: ProcessInfo.processInfo.environment["TWEETER_KEEP_LOGS"] != nil)
        return result
    } catch {
        await system.stop(keepLogs: true)
        throw error
    }
}
