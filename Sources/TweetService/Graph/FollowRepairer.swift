import Logging
import ServiceLifecycle
import Wire

/// Finishes follows whose followee side was not brought in line, e.g. because the process died between the two
/// shards. It scans every server's `follow_repairs` (a few statements per server) and replays the sync for old entries.
public struct FollowRepairer: Service {
    public struct Configuration: Sendable {
        /// How often to look.
        public var interval: Duration
        /// Entries younger than this are left to the request that made them.
        public var minimumAge: Duration
        /// Entries handled per server per pass.
        public var batchSize: Int

        public init(interval: Duration = .seconds(5), minimumAge: Duration = .seconds(10), batchSize: Int = 500) {
            self.interval = interval
            self.minimumAge = minimumAge
            self.batchSize = batchSize
        }
    }

    let graph: FollowGraph
    let configuration: Configuration
    let logger: Logger

    public init(graph: FollowGraph, configuration: Configuration = Configuration(), logger: Logger) {
        self.graph = graph
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let repaired = try await repairOnce(minimumAge: configuration.minimumAge)
                if repaired > 0 {
                    logger.notice("repaired follow edges", metadata: ["count": "\(repaired)"])
                }
            } catch {
                logger.warning("follow repair pass failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.interval)
        }
    }

    /// One pass over every server, each on its own: a server that is down, or an edge whose other side is on one,
    /// costs only its own entries. Returns how many edges were synced; throws the first failure after the pass.
    @discardableResult
    public func repairOnce(minimumAge: Duration) async throws -> Int {
        var repaired = 0
        var firstFailure: (any Error)?
        for server in 0..<graph.database.shardMap.serverCount {
            do {
                for edge in try await pending(onServer: server, minimumAge: minimumAge) {
                    do {
                        try await graph.syncFolloweeSide(edge)
                        repaired += 1
                    } catch {
                        firstFailure = firstFailure ?? error
                    }
                }
            } catch {
                firstFailure = firstFailure ?? error
            }
        }
        if let firstFailure {
            throw firstFailure
        }
        return repaired
    }

    /// Entries older than `minimumAge` on one server's shards, at most ``Configuration/batchSize``.
    private func pending(onServer server: Int, minimumAge: Duration) async throws -> [FollowEdge] {
        try await graph.database.scan(
            server: server, parameters: [String(minimumAge.milliseconds)], limit: configuration.batchSize
        ) { _, schema in
            "SELECT follower_id, followee_id FROM \(schema).follow_repairs WHERE queued_at < clock_timestamp() - $1::bigint * interval '1 millisecond'"
        } decode: {
            FollowEdge(followerID: try $0.int64("follower_id"), followeeID: try $0.int64("followee_id"))
        }
    }
}
