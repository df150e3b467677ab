import Dispatch
import TweetService
import Wire

extension TruthStore {
    /// One outbox row: its id and either its payload as PostgreSQL's bytea hex text (`\x…`) or, for a tweet's
    /// creation, the id of the tweet it refers to.
    struct OutboxRow: Sendable {
        var id: Int64
        var payloadHex: String?
        var tweetID: Int64?
    }

    /// The rows in one shard's outbox, oldest first.
    func outboxRows(shard: Int) async throws -> [OutboxRow] {
        let rows = try await database.withShard(shard) { connection, schema in
            try connection.query("SELECT id, payload, tweet_id FROM \(schema).outbox ORDER BY id")
        }
        return try rows.all.map {
            OutboxRow(
                id: try $0.int64("id"), payloadHex: $0.optionalString("payload"), tweetID: $0.optionalInt64("tweet_id"))
        }
    }

    /// Writes `event` into the shard's outbox as a new row, encoded as the outbox stores events: an event delivered a
    /// second time, as a TimelineService that replays its queue would see it. Returns the new row's id.
    func replay(_ event: TimelineEvent.Change, shard: Int) async throws -> Int64 {
        let hex = TimelineEvent(id: 0, shard: 0, change: event).payload().readableBytesView.map {
            ($0 < 16 ? "0" : "") + String($0, radix: 16)
        }.joined()
        let rows = try await database.withShard(shard) { connection, schema in
            try connection.query(
                "INSERT INTO \(schema).outbox (payload) VALUES ($1::bytea) RETURNING id", ["\\x" + hex])
        }
        return try rows[0].int64("id")
    }

    /// Writes a reference to tweet `tweetID` by `author` into its shard's outbox again, as a relay that died after
    /// delivering and before deleting the row would leave it. Returns the new row's id.
    func replayReference(toTweet tweetID: Int64, by author: String) async throws -> Int64 {
        let rows = try await database.withShard(TweeterID.shard(of: tweetID)) { connection, schema in
            try connection.query(
                "INSERT INTO \(schema).outbox (tweet_id, author_username, author_followers) VALUES ($1, $2, 1) RETURNING id",
                [String(tweetID), author])
        }
        return try rows[0].int64("id")
    }

    /// Whether the row with this id is still in the shard's outbox.
    func outboxHolds(row id: Int64, shard: Int) async throws -> Bool {
        try await database.withShard(shard) { connection, schema in
            try connection.query("SELECT 1 FROM \(schema).outbox WHERE id = $1", [String(id)])
        }.count > 0
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
