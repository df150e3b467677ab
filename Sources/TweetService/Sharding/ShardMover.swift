import Foundation
import Logging
import NIOPosix

/// Moves logical shards between PostgreSQL servers while the TweetServices serve them, and fills a new server.
///
/// A move goes through steps recorded in the catalog's `shard_moves`, each safe to run again, so a move interrupted
/// anywhere completes when the command runs again:
/// 1. **copying**: the shard's schema is created on the target (the same migrations, tables emptied), and a
///    subscription copies its rows and then follows its writes (logical replication of `FOR TABLES IN SCHEMA`).
///    Writes go on as usual. A re-run starts the copy over.
/// 2. **frozen**: one transaction on the source locks the shard's tables against writes (reads go on), waits until
///    the subscription has applied everything the source flushed, copies the sequences, and renames the schema to
///    `shard_NNNN_moved`. From its commit, the old location refuses every statement (the names are gone), so nothing
///    can be written or read there again; TweetServices that meet the refusal read the catalog and retry. The lock is
///    held for at most ``Configuration/freezeBudget``; when catching up takes longer, the transaction rolls back (the
///    shard serves on) and the freeze is tried again.
/// 3. **flipped**: one catalog transaction places the shard on the target and bumps the map's version.
/// 4. **cleaned**: the subscription and the publication are dropped.
/// 5. After ``Configuration/gracePeriod`` the old copy is dropped and the move's record deleted.
public final class ShardMover: Sendable {
    public struct Configuration: Sendable {
        /// The longest writes to the moving shard wait while it is frozen.
        public var freezeBudget: Duration
        /// Freezes tried before the move gives up (it can be run again).
        public var freezeAttempts: Int
        /// How long the initial copy may take.
        public var copyTimeout: Duration
        /// How long the old copy is kept after the move, for people to look at (nothing can use it).
        public var gracePeriod: Duration
        /// Called after each step is recorded, with its name: for progress output, and for tests that stop the
        /// process there (`copied`, `locked` (inside the freeze), `frozen`, `flipped`, `cleaned`).
        public var afterStep: @Sendable (_ shard: Int, _ step: String) -> Void

        public init(
            freezeBudget: Duration = .milliseconds(500), freezeAttempts: Int = 20,
            copyTimeout: Duration = .seconds(600),
            gracePeriod: Duration = .seconds(60), afterStep: @escaping @Sendable (Int, String) -> Void = { _, _ in }
        ) {
            self.freezeBudget = freezeBudget
            self.freezeAttempts = freezeAttempts
            self.copyTimeout = copyTimeout
            self.gracePeriod = gracePeriod
            self.afterStep = afterStep
        }
    }

    public let catalogConninfo: String
    public let configuration: Configuration
    private let logger: Logger
    /// Moves block on libpq from start to end, so they run on a thread of their own.
    private let thread: NIOThreadPool

    public init(catalogConninfo: String, configuration: Configuration = Configuration(), logger: Logger) {
        self.catalogConninfo = catalogConninfo
        self.configuration = configuration
        self.logger = logger
        self.thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
    }

    public func shutdown() async throws {
        try await thread.shutdownGracefully()
    }

    /// Moves `shard` to the server `target` names (added to the catalog if new), first completing a move of it that
    /// was interrupted, and drops the old copy after the grace period.
    public func move(shard: Int, to target: String) async throws {
        try await onThread { session in
            try session.resumeMoves(of: shard)
            try session.move(shard: shard, to: target)
            try session.dropOldCopies(waiting: true)
        }
    }

    /// Adds `newServer` (if given) and moves shards one at a time, each from the server holding the most to the one
    /// holding the fewest, until they differ by at most one. Completes interrupted moves first.
    /// - Parameter progress: told each move before it starts: the shard, source and target server, and how many of
    ///   the moves planned are done.
    public func rebalance(
        adding newServer: String?, progress: @escaping @Sendable (ShardMovePlan.Move, _ done: Int, _ of: Int) -> Void
    ) async throws {
        try await onThread { session in
            try session.resumeMoves(of: nil)
            if let newServer {
                _ = try session.catalog.register(server: newServer)
            }
            let snapshot = try session.catalog.snapshot()
            let plan = ShardMovePlan(map: snapshot.map)
            for (index, step) in plan.moves.enumerated() {
                progress(step, index, plan.moves.count)
                try session.move(shard: step.shard, to: snapshot.servers[step.target])
            }
            try session.dropOldCopies(waiting: true)
        }
    }

    private func onThread(_ body: @escaping @Sendable (ShardMoveSession) throws -> Void) async throws {
        try await thread.runIfActive {
            let session = try ShardMoveSession(
                catalog: ShardCatalogConnection(conninfo: self.catalogConninfo), configuration: self.configuration,
                logger: self.logger)
            try body(session)
        }
    }
}

/// Why a shard could not be moved.
public enum ShardMoveError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Another process is moving this shard now.
    case busy(shard: Int)
    /// A move of the shard to another server is under way; it must complete first.
    case anotherMoveUnderWay(shard: Int)
    /// The catalog has not recorded yet that every shard's schema exists (no TweetService finished its first start).
    case schemasNotCreated
    /// No freeze caught up within its budget, in every attempt: the source writes faster than the copy applies.
    case freezeFailed(shard: Int, attempts: Int)
    case copyTimedOut(shard: Int)
    case noSuchShard(Int)

    public var description: String {
        switch self {
        case .busy(let shard): "shard \(shard) is being moved by another process"
        case .anotherMoveUnderWay(let shard):
            "shard \(shard) is moving to another server; run the command for that move to complete it first"
        case .schemasNotCreated: "the shards' schemas are not all created yet: start a TweetService or run migrate"
        case .freezeFailed(let shard, let attempts): "shard \(shard): no freeze caught up in \(attempts) attempts"
        case .copyTimedOut(let shard): "shard \(shard): the initial copy did not finish in time"
        case .noSuchShard(let shard): "no logical shard \(shard)"
        }
    }
}
