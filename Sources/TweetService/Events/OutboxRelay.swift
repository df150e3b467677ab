import Logging
import Metrics
import ServiceLifecycle
import Wire

/// Moves events from every shard's outbox to the TimelineService, at least once and in outbox order per shard.
///
/// A pass claims a batch of a shard's rows for ``Configuration/claimTime`` (so that several relays share the work
/// without sending a row twice at once), delivers it, and deletes the rows only once the TimelineService has
/// acknowledged them. A relay that dies leaves its claims to expire; another relay, or this one restarted, sends them
/// again. Writers wake the relay for their shard through ``notify(shard:)``; a sweep over all shards catches the rest.
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        /// Rows per delivery.
        public var batchSize: Int
        /// How long a claim keeps other relays off a batch.
        public var claimTime: Duration
        /// How often every shard is checked, in case a wake-up was missed.
        public var sweepInterval: Duration
        /// Shards drained at once.
        public var concurrency: Int
        /// Pause after a failed delivery.
        public var retryDelay: Duration

        public init(
            batchSize: Int = 500, claimTime: Duration = .seconds(10), sweepInterval: Duration = .seconds(1),
            concurrency: Int = 8, retryDelay: Duration = .milliseconds(500)
        ) {
            self.batchSize = batchSize
            self.claimTime = claimTime
            self.sweepInterval = sweepInterval
            self.concurrency = concurrency
            self.retryDelay = retryDelay
        }
    }

    /// Where events go: the TimelineService's `DeliverEvents`, or anything that acknowledges the same way.
    public typealias Deliver = @Sendable (TimelineEventBatch) async throws -> Void

    private let database: ShardedDatabase
    private let deliver: Deliver
    private let configuration: Configuration
    private let logger: Logger
    private let wakeUps: AsyncStream<Int>
    private let wakeUpContinuation: AsyncStream<Int>.Continuation
    private let delivered = Counter(label: "tweet_service_outbox_events_delivered_total")

    public init(database: ShardedDatabase, configuration: Configuration = Configuration(), logger: Logger, deliver: @escaping Deliver) {
        self.database = database
        self.deliver = deliver
        self.configuration = configuration
        self.logger = logger
        // Bounded: a burst of wake-ups for the same shards collapses; the sweep covers anything dropped.
        (wakeUps, wakeUpContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// Asks for a prompt pass over `shard`, after a write put events in its outbox.
    public func notify(shard: Int) {
        wakeUpContinuation.yield(shard)
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await self.sweepForever() }
                for await shard in wakeUps {
                    try await drain(shards: [shard])
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wakeUpContinuation.finish()
        }
    }

    private func sweepForever() async throws {
        while !Task.isCancelled {
            do {
                try await drain(shards: try await shardsWithEvents())
            } catch {
                logger.warning("outbox sweep failed", metadata: ["error": "\(error)"])
            }
            try await Task.sleep(for: configuration.sweepInterval)
        }
    }

    /// The shards whose outbox has rows not claimed right now: one query per server.
    func shardsWithEvents() async throws -> [Int] {
        try await database.onEveryServer { connection, shards in
            guard !shards.isEmpty else { return [Int]() }
            let union = shards.map {
                "SELECT \($0) AS shard WHERE EXISTS (SELECT 1 FROM \(ShardMap.schema(ofShard: $0)).outbox WHERE claimed_until IS NULL OR claimed_until < now())"
            }.joined(separator: " UNION ALL ")
            return try connection.query(union).all.map { Int(try $0.int64("shard")) }
        }.flatMap { $0 }
    }

    /// Delivers everything the shards hold, a few shards at a time, until they are empty or a delivery fails.
    public func drain(shards: [Int]) async throws {
        var pending = shards[...]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<configuration.concurrency {
                guard let shard = pending.popFirst() else { break }
                group.addTask { await self.drain(shard: shard) }
            }
            while try await group.next() != nil {
                if let shard = pending.popFirst() {
                    group.addTask { await self.drain(shard: shard) }
                }
            }
        }
    }

    private func drain(shard: Int) async {
        do {
            while try await deliverBatch(shard: shard) == configuration.batchSize {}
        } catch {
            logger.warning("outbox delivery failed; will retry", metadata: ["shard": "\(shard)", "error": "\(error)"])
            try? await Task.sleep(for: configuration.retryDelay)
        }
    }

    /// Claims, delivers and deletes one batch; returns its size.
    func deliverBatch(shard: Int) async throws -> Int {
        let claimMillis = String(configuration.claimTime.components.seconds * 1000)
        let limit = String(configuration.batchSize)
        let rows = try await database.withShard(shard) { connection, schema in
            try connection.query(
                """
                UPDATE \(schema).outbox SET claimed_until = now() + $1::bigint * interval '1 millisecond'
                WHERE id IN (
                    SELECT id FROM \(schema).outbox WHERE claimed_until IS NULL OR claimed_until < now()
                    ORDER BY id LIMIT $2::bigint FOR UPDATE SKIP LOCKED
                )
                RETURNING id, payload
                """,
                [claimMillis, limit]
            ).all.map { (try $0.int64("id"), try $0.string("payload")) }
        }
        guard !rows.isEmpty else { return 0 }
        let events = try rows.map { try OutboxPayload.event(rowID: $0.0, shard: shard, byteaText: $0.1) }.sorted { $0.id < $1.id }
        let ids = events.map(\.id).postgresArray
        do {
            try await deliver(TimelineEventBatch(events: events))
        } catch {
            // Hand the rows back at once rather than waiting for the claim to expire.
            _ = try? await database.withShard(shard) { connection, schema in
                try connection.query("UPDATE \(schema).outbox SET claimed_until = NULL WHERE id = ANY($1::bigint[])", [ids])
            }
            throw error
        }
        _ = try await database.withShard(shard) { connection, schema in
            try connection.query("DELETE FROM \(schema).outbox WHERE id = ANY($1::bigint[])", [ids])
        }
        delivered.increment(by: events.count)
        return events.count
    }
}
