/// The prepared statements of the outbox relay's hot path, one of each per shard: every delivered event is claimed
/// and deleted by them, so they are parsed and planned once per connection and shard, not once per batch.
///
/// Both commit without waiting for their WAL to reach the disk (``asynchronousCommit``): losing either to a crash of
/// PostgreSQL costs only a second delivery of the rows (a lost claim leaves them unclaimed, a lost delete leaves them
/// in the outbox), and deliveries are idempotent. The events themselves were committed, synchronously, by the writes
/// that made them.
enum OutboxStatements {
    /// A condition that is always true and makes the statement's transaction commit asynchronously
    /// (`synchronous_commit` off for this transaction only: `set_config`'s third argument), so that the relay's claims
    /// and deletes do not each wait for a WAL flush (about 1.2 ms on this project's machines) nor ask for one. Written
    /// into the statement itself because the statements run on connections that also store tweets, whose commits must
    /// stay synchronous, and a `SET LOCAL` would need a transaction block: three round trips for one.
    static let asynchronousCommit = "(SELECT set_config('synchronous_commit', 'off', true)) = 'off'"

    /// Claims the oldest unclaimed rows for a while and returns them, each with its payload or, for a row that refers
    /// to a tweet, the tweet as it is now (NULLs when the tweet is gone) and the author's username and follower count
    /// the row holds. The author's row is not read: every creation updates it, and reading a row that hot costs a
    /// walk through its many recent versions. `$1` the claim in milliseconds, `$2` the most rows.
    ///
    /// The rows are chosen in an array (`= ANY(ARRAY(…))`), so the choice runs once whatever the plan: written as
    /// `IN (…)`, a plan made while the outbox looked empty (its statistics are taken when the relay has just drained
    /// it) joined every outbox row against the choice made again, which cost 5 to 15 ms a claim under load.
    ///
    /// The choice locks its rows (`FOR UPDATE SKIP LOCKED`), so relays that claim at once (two instances, or this
    /// one's sweep beside a wake-up or a delete's prompt delivery) take different rows without waiting for each other.
    /// The lock costs a WAL record per row; a claim without it, repeating the unclaimed condition in the update
    /// instead, was tried and left: claims that overlap then wait for each other, and two connections holding
    /// different plans lock in different orders and can deadlock (`docs/performance.md`, "Runs of 4 Dec,
    /// 21:31–23:17").
    static func claim(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "outbox_claim.\(schema)",
            sql: """
                WITH claimed AS (
                    UPDATE \(schema).outbox SET claimed_until = now() + $1::bigint * interval '1 millisecond'
                    WHERE id = ANY(ARRAY(
                        SELECT id FROM \(schema).outbox WHERE claimed_until IS NULL OR claimed_until < now()
                        ORDER BY id LIMIT $2::bigint FOR UPDATE SKIP LOCKED
                    )) AND \(asynchronousCommit)
                    RETURNING id, payload, tweet_id, author_username, author_followers
                )
                SELECT c.id, c.payload, c.tweet_id, c.author_username, c.author_followers, t.user_id, t.text,
                    t.in_reply_to_id
                FROM claimed c LEFT JOIN \(schema).tweets t ON t.id = c.tweet_id
                """
        )
    }

    /// Deletes delivered rows. `$1` their ids, as a `bigint[]`.
    static func delete(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "outbox_delete.\(schema)",
            sql: "DELETE FROM \(schema).outbox WHERE id = ANY($1::bigint[]) AND \(asynchronousCommit)")
    }
}
