import Logging
import ServiceLifecycle

/// Reads the shard catalog's version every ``interval`` and the whole map when it moved, so that an instance that
/// sends nothing to a moved shard still learns of the move within about that long. (Work that meets a moved shard
/// does not wait for it: it refreshes at once.)
public struct ShardMapWatcher: Service {
    public let database: ShardedDatabase
    public let interval: Duration
    public let logger: Logger

    public init(database: ShardedDatabase, interval: Duration = .seconds(1), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await database.refreshShardMap()
                } catch {
                    logger.warning("cannot read the shard catalog", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
