import Dispatch
import TweetService
import Wire

extension TruthStore {
    /// One outbox row: its id and its payload as PostgreSQL's bytea hex text (`\x…`).
    struct OutboxRow: Sendable {
        var id: Int64
        var payloadHex: String

        /// The event the row holds (its id and shard are filled in by the relay, so here they are 0).
        func event() throws -> TimelineEvent {
            guard payloadHex.hasPrefix("\\x"), let bytes = bytes(hex: payloadHex.dropFirst(2)) else {
                throw FaultFailure("outbox row \(id) is not bytea hex")
            }
            return try TimelineEvent(payload: .init(bytes: bytes))
        }

        private func bytes(hex: Substring) -> [UInt8]? {
            var result: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
                guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
                result.append(byte)
                index = next
            }
            return result
        }
    }

    /// The rows in one shard's outbox, oldest first.
    func outboxRows(shard: Int) async throws -> [OutboxRow] {
        let rows = try await database.withShard(shard) { connection, schema in
            try connection.query("SELECT id, payload FROM \(schema).outbox ORDER BY id")
        }
        return try rows.all.map { OutboxRow(id: try $0.int64("id"), payloadHex: try $0.string("payload")) }
    }

    /// Writes `payloadHex` into the shard's outbox again as a new row: an event delivered a second time, as a relay
    /// that died after delivering and before deleting would send it. Returns the new row's id.
    func replay(_ payloadHex: String, shard: Int) async throws -> Int64 {
        let rows = try await database.withShard(shard) { connection, schema in
            try connection.query("INSERT INTO \(schema).outbox (payload) VALUES ($1::bytea) RETURNING id", [payloadHex])
        }
        return try rows[0].int64("id")
    }

    /// The ids of the rows in one shard's `outbox_dead_letters`: events the relay gave up on.
    func deadLetterIDs(shard: Int) async throws -> Set<Int64> {
        let rows = try await database.withShard(shard) { connection, schema in
            try connection.query("SELECT id FROM \(schema).outbox_dead_letters")
        }
        return Set(try rows.all.map { try $0.int64("id") })
    }

    /// Takes `ACCESS EXCLUSIVE` on one shard's `tweets` table in a transaction that one of the store's connections
    /// holds on its own thread, and returns once PostgreSQL shows the lock granted. The lock goes when ``ShardLock/
    /// release()`` is called, or after `limit` whatever happens, so a failing test cannot leave the table locked.
    func lockTweets(ofShard shard: Int, atMost limit: Duration) async throws -> ShardLock {
        let lock = ShardLock(shard: shard, limit: limit, database: database)
        let schema = ShardMap.schema(ofShard: shard)
        let granted = try await poll(within: .seconds(10), every: .milliseconds(50)) {
            return try await database.withShard(shard) { connection, _ in
                try connection.query(
                    """
                    SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                    JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = $1 AND c.relname = 'tweets' AND l.mode = 'AccessExclusiveLock' AND l.granted
                    """, [schema])
            }.count > 0
        }
        guard granted else {
            let outcome = await lock.release()
            throw FaultFailure("the lock on \(schema).tweets was never granted (holder: \(outcome))")
        }
        return lock
    }
}

/// A lock held on a shard's `tweets` table by a transaction on a store connection (see
/// ``TruthStore/lockTweets(ofShard:atMost:)``).
final class ShardLock: Sendable {
    let shard: Int
    private let released = DispatchSemaphore(value: 0)
    private let holder: Task<Void, any Error>

    fileprivate init(shard: Int, limit: Duration, database: ShardedDatabase) {
        self.shard = shard
        let released = released
        holder = Task {
            try await database.withShard(shard) { connection, schema in
                try connection.transaction { connection in
                    try connection.query("LOCK TABLE \(schema).tweets IN ACCESS EXCLUSIVE MODE")
                    // Blocks this pool thread (not the cooperative pool) for as long as the fault lasts.
                    _ = released.wait(timeout: .now() + .nanoseconds(Int(limit.components.seconds) * 1_000_000_000))
                }
            }
        }
    }

    /// Ends the transaction (so the lock goes), waits until it has ended and returns how it ended.
    @discardableResult
    func release() async -> Result<Void, any Error> {
        released.signal()
        return await holder.result
    }
}
