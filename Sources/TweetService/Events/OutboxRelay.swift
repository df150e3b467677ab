import Logging
import Metrics
import NIOPosix
import ServiceLifecycle
import Synchronization
import Wire

/// Moves events from every shard's outbox to the TimelineService, at least once and in outbox order per shard.
///
/// A pass claims a batch of a shard's rows for ``Configuration/claimTime`` (so that several relays share the work
/// without sending a row twice at once), delivers it, and deletes the rows only once the TimelineService has
/// acknowledged them. A relay that dies leaves its claims to expire; another relay, or this one restarted, sends them
/// again. Writers wake the relay for their shard through ``notify(shard:)``; a sweep over all shards catches the rest.
/// Wake-ups coalesce: those that come while a server's shards are being drained mark their shards pending, and the
/// next pass drains every pending shard once, so a burst of writes costs a few batches, not a claim per write.
///
/// A fault costs only what it touches: each physical server has its own wake-ups and its own sweep, so a server that
/// is down or a shard that is locked never delays another server's shards. A batch is bounded in bytes as well as
/// rows, and a row that can never be delivered (undecodable, or refused by the TimelineService as invalid even
/// alone) is moved to the shard's `outbox_dead_letters` with a log line and a metric, never blocking the rows behind.
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        /// Rows per delivery: 1 to ``DeliverEvents/maxEvents``, the most one delivery may carry.
        public var batchSize: Int
        /// Payload bytes per delivery; a batch is cut before the row that would pass it (a first row always goes).
        /// Below the TimelineService's frame limit (1 MiB by default); a batch the server still refuses as too
        /// large (it announces its limit) is split in halves.
        public var maxBatchBytes: Int
        /// How long a claim keeps other relays off a batch.
        public var claimTime: Duration
        /// How often every shard is checked, in case a wake-up was missed.
        public var sweepInterval: Duration
        /// Shards of one server drained at once.
        public var concurrency: Int
        /// Pause after a failed delivery.
        public var retryDelay: Duration
        /// Rows this relay deletes from one shard's outbox before it vacuums that outbox (`VACUUM (SKIP_LOCKED)`);
        /// 0: never (autovacuum alone). An outbox is a queue: every event leaves two dead row versions (its claim and
        /// its delete), and until a vacuum reclaims them every claim reads past them. Autovacuum comes about once a
        /// minute, by which time a shard taking 2,000 events a second holds 240,000 (measured: a claim of an empty
        /// outbox took 6.5 ms, reading 1,735 pages).
        public var vacuumEvery: Int

        public init(
            batchSize: Int = 500, maxBatchBytes: Int = 512 * 1024, claimTime: Duration = .seconds(10),
            sweepInterval: Duration = .seconds(1), concurrency: Int = 8, retryDelay: Duration = .milliseconds(500),
            vacuumEvery: Int = 2_000
        ) {
            precondition(
                (1...DeliverEvents.maxEvents).contains(batchSize), "batchSize must be 1 to \(DeliverEvents.maxEvents)")
            self.batchSize = batchSize
            self.maxBatchBytes = maxBatchBytes
            self.claimTime = claimTime
            self.sweepInterval = sweepInterval
            self.concurrency = concurrency
            self.retryDelay = retryDelay
            self.vacuumEvery = vacuumEvery
        }
    }

    /// Where events go: the TimelineService's `DeliverEvents`, or anything that acknowledges the same way.
    public typealias Deliver = @Sendable (TimelineEventBatch) async throws -> Void

    private let database: ShardedDatabase
    private let deliver: Deliver
    private let configuration: Configuration
    private let logger: Logger
    /// One set of woken shards per physical server, by server number; grows when the shard map names a new server.
    private let wakeUps = Mutex<[ShardWakeUps]>([])
    /// Rows deleted from each shard's outbox since this relay last vacuumed it, by shard.
    private let deletedSinceVacuum = Mutex<[Int: Int]>([:])
    /// Since when the writes that woke this relay have waited, by shard.
    private let lag = OutboxLag()
    private let delivered = Counter(label: "tweet_service_outbox_events_delivered_total")
    private let vacuums = Counter(label: "tweet_service_outbox_vacuums_total")
    private let deadLettered = Counter(label: "tweet_service_outbox_dead_letters_total")

    public init(
        database: ShardedDatabase, configuration: Configuration = Configuration(), logger: Logger,
        deliver: @escaping Deliver
    ) {
        self.database = database
        self.deliver = deliver
        self.configuration = configuration
        self.logger = logger
    }

    /// Asks for a prompt pass over `shard`, after a write put events in its outbox.
    public func notify(shard: Int) {
        lag.woken(shard)
        wakeUps(ofServer: database.shardMap.server(ofShard: shard)).wake(shard)
    }

    /// How long the oldest write that woke this relay has waited for its events to be delivered (``OutboxLag``);
    /// zero when every shard it was woken for has been found drained since. Created tweets are applied on delivery,
    /// so their fan-out is behind by this much; ``FanOutBackpressure`` counts it beside the TimelineService's queue.
    public var deliveryLag: Duration { lag.lag }

    private func wakeUps(ofServer server: Int) -> ShardWakeUps {
        wakeUps.withLock { wakeUps in
            while wakeUps.count <= server {
                wakeUps.append(ShardWakeUps())
            }
            return wakeUps[server]
        }
    }

    /// Sweeps and drains every server, and each server the shard map names later from the sweep after it appears.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                var served = 0
                while !Task.isCancelled {
                    for server in served..<self.database.shardMap.serverCount {
                        let wakeUps = self.wakeUps(ofServer: server)
                        // On an event loop: a drain waits for libpq threads and the TimelineService in turn, and
                        // resumes here without waking a thread of the cooperative pool each time.
                        let loop = EventLoopTaskExecutor(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
                        group.addTask(executorPreference: loop) { await self.sweepForever(server: server) }
                        group.addTask(executorPreference: loop) {
                            for await shards in wakeUps {
                                await self.drain(shards: shards)
                            }
                        }
                        served = server + 1
                    }
                    try? await Task.sleep(for: self.configuration.sweepInterval)
                }
            }
        }
    }

    private func sweepForever(server: Int) async {
        while !Task.isCancelled {
            do {
                await drain(shards: try await shardsWithEvents(onServer: server))
            } catch {
                logger.warning("outbox sweep failed", metadata: ["server": "\(server)", "error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.sweepInterval)
        }
    }

    /// The shards of every server whose outbox has rows not claimed right now (servers that fail are left out).
    func shardsWithEvents() async -> [Int] {
        var shards: [Int] = []
        for server in 0..<database.shardMap.serverCount {
            shards += (try? await shardsWithEvents(onServer: server)) ?? []
        }
        return shards
    }

    /// The shards of one server whose outbox has rows not claimed right now: a statement per few shards
    /// (``ShardedDatabase/scan(server:parameters:limit:branch:decode:)``).
    func shardsWithEvents(onServer server: Int) async throws -> [Int] {
        try await database.scan(server: server) { shard, schema in
            "SELECT \(shard) AS shard WHERE EXISTS (SELECT 1 FROM \(schema).outbox WHERE claimed_until IS NULL OR claimed_until < now())"
        } decode: {
            Int(try $0.int64("shard"))
        }
    }

    /// Delivers what `shard` holds now, in the caller's task: for a write whose caller should see its effect in the
    /// timelines when it is answered (a delete). Failures are left to the wake-ups and the sweep.
    public func deliverNow(shard: Int) async {
        do {
            while try await deliverBatch(shard: shard) == .mayHaveMore {}
        } catch {
            logger.notice(
                "prompt outbox delivery failed; the relay retries",
                metadata: ["shard": "\(shard)", "error": "\(error)"])
        }
    }

    /// Delivers everything the shards hold, a few shards at a time, until they are empty or a delivery fails.
    public func drain(shards: [Int]) async {
        var pending = shards[...]
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<configuration.concurrency {
                guard let shard = pending.popFirst() else { break }
                group.addTask { await self.drain(shard: shard) }
            }
            while await group.next() != nil {
                if let shard = pending.popFirst() {
                    group.addTask { await self.drain(shard: shard) }
                }
            }
        }
    }

    /// Delivers everything `shard` holds, then vacuums its outbox when that is due. (Never on ``deliverNow(shard:)``'s
    /// path: a request must not wait for a vacuum; the rows it deleted count towards the next drain's.)
    private func drain(shard: Int) async {
        do {
            while try await deliverBatch(shard: shard) == .mayHaveMore {}
        } catch {
            logger.warning("outbox delivery failed; will retry", metadata: ["shard": "\(shard)", "error": "\(error)"])
            try? await Task.sleep(for: configuration.retryDelay)
        }
        if isDueForVacuum(shard: shard) {
            await vacuum(shard: shard)
        }
    }

    /// One claimed outbox row.
    private struct Row: Sendable {
        let id: Int64
        let content: OutboxPayload.Content
    }

    /// What a batch left behind in its shard's outbox.
    enum BatchOutcome: Sendable, Equatable {
        /// The claim found fewer rows than a batch holds: the shard had nothing more unclaimed when it was claimed.
        /// Rows written since come with their own wake-up.
        case drained
        /// A full batch, or one cut by bytes: more rows may be waiting.
        case mayHaveMore
    }

    /// Claims, delivers and deletes one batch (rows delivered or dead-lettered leave the outbox).
    func deliverBatch(shard: Int) async throws -> BatchOutcome {
        let claimMillis = String(configuration.claimTime.milliseconds)
        let limit = String(configuration.batchSize)
        let claimedAt = ContinuousClock.now
        var rows = try await database.withShard(shard) { connection, schema in
            try connection.execute(OutboxStatements.claim(schema: schema), [claimMillis, limit]).all.map {
                Row(id: try $0.int64("id"), content: try OutboxPayload.content(of: $0))
            }
        }.sorted { $0.id < $1.id }
        guard !rows.isEmpty else { return drained(shard, claimedAt: claimedAt) }
        let claimedFullBatch = rows.count == configuration.batchSize
        // Bounded in bytes: the rows past the bound go back at once, for the next batch.
        var bytes = 0
        let fitting = rows.prefix { row in
            bytes += row.content.eventByteCount
            return bytes <= configuration.maxBatchBytes
        }.count
        let claimedCount = rows.count
        if fitting < rows.count {
            try await release(Array(rows[max(1, fitting)...]), shard: shard)
            rows = Array(rows[..<max(1, fitting)])
        }
        var events: [(Row, TimelineEvent)] = []
        var vanished: [Row] = []
        for row in rows {
            do {
                if let event = try OutboxPayload.event(rowID: row.id, shard: shard, content: row.content) {
                    events.append((row, event))
                } else {
                    vanished.append(row)
                }
            } catch {
                try await deadLetter(row, shard: shard, reason: "undecodable: \(error)")
            }
        }
        try await deliver(events, shard: shard)
        try await delete(vanished, shard: shard)
        return claimedFullBatch || fitting < claimedCount ? .mayHaveMore : drained(shard, claimedAt: claimedAt)
    }

    /// The outcome of a batch whose claim, begun at `claimedAt`, found no more rows than it delivered: the writes that
    /// woke the relay for `shard` before it are delivered (``OutboxLag``).
    private func drained(_ shard: Int, claimedAt: ContinuousClock.Instant) -> BatchOutcome {
        lag.drained(shard, claimedAt: claimedAt)
        return .drained
    }

    /// Delivers `events` and deletes their rows; a batch refused as invalid or too large is split until the row
    /// at fault is alone, and that row is dead-lettered. Any other failure hands the rows back and throws.
    private func deliver(_ events: [(Row, TimelineEvent)], shard: Int) async throws {
        guard !events.isEmpty else { return }
        do {
            try await deliver(TimelineEventBatch(events: events.map(\.1)))
        } catch let error as WireError where error.code == .invalidArgument {
            guard events.count > 1 else {
                try await deadLetter(events[0].0, shard: shard, reason: "refused: \(error)")
                return
            }
            let half = events.count / 2
            try await deliver(Array(events[..<half]), shard: shard)
            try await deliver(Array(events[half...]), shard: shard)
            return
        } catch {
            // Hand the rows back at once rather than waiting for the claim to expire.
            try? await release(events.map(\.0), shard: shard)
            throw error
        }
        try await delete(events.map(\.0), shard: shard)
        delivered.increment(by: events.count)
    }

    /// Deletes rows that are done with: delivered, or references to tweets that no longer exist.
    private func delete(_ rows: [Row], shard: Int) async throws {
        guard !rows.isEmpty else { return }
        let ids = rows.map(\.id).postgresArray
        _ = try await database.withShard(shard) { connection, schema in
            try connection.execute(OutboxStatements.delete(schema: schema), [ids])
        }
        deletedSinceVacuum.withLock { $0[shard, default: 0] += rows.count }
    }

    /// Whether this relay deleted ``Configuration/vacuumEvery`` rows from `shard`'s outbox since it last vacuumed it;
    /// when it did, the count starts again.
    private func isDueForVacuum(shard: Int) -> Bool {
        guard configuration.vacuumEvery > 0 else { return false }
        return deletedSinceVacuum.withLock { counts in
            guard counts[shard, default: 0] >= configuration.vacuumEvery else { return false }
            counts[shard] = 0
            return true
        }
    }

    /// Vacuums the shard's outbox, unless another vacuum holds it (`SKIP_LOCKED`: that one does the work). A failure
    /// costs only speed (the dead rows wait for the next vacuum or autovacuum), so it is logged, not thrown.
    private func vacuum(shard: Int) async {
        do {
            try await database.withShard(shard) { connection, schema in
                try connection.execute(script: "VACUUM (SKIP_LOCKED) \(schema).outbox")
            }
            vacuums.increment()
        } catch {
            logger.notice("outbox vacuum failed", metadata: ["shard": "\(shard)", "error": "\(error)"])
        }
    }

    private func release(_ rows: [Row], shard: Int) async throws {
        let ids = rows.map(\.id).postgresArray
        _ = try await database.withShard(shard) { connection, schema in
            try connection.query("UPDATE \(schema).outbox SET claimed_until = NULL WHERE id = ANY($1::bigint[])", [ids])
        }
    }

    /// Moves a row that can never be delivered out of the way, keeping it for people to look at.
    private func deadLetter(_ row: Row, shard: Int, reason: String) async throws {
        logger.error(
            "outbox row dead-lettered", metadata: ["shard": "\(shard)", "row": "\(row.id)", "reason": "\(reason)"])
        deadLettered.increment()
        _ = try await database.withShard(shard) { connection, schema in
            try connection.query(
                """
                WITH moved AS (
                    DELETE FROM \(schema).outbox WHERE id = $1
                    RETURNING id, payload, tweet_id, author_username, author_followers, created_at
                )
                INSERT INTO \(schema).outbox_dead_letters
                    (id, payload, tweet_id, author_username, author_followers, created_at, reason)
                SELECT id, payload, tweet_id, author_username, author_followers, created_at, $2 FROM moved
                ON CONFLICT (id) DO NOTHING
                """,
                [String(row.id), reason]
            )
        }
    }
}
