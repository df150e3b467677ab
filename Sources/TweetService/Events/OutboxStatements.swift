/// The prepared statements of the outbox relay's hot path, one of each per shard: every delivered event is claimed
/// and deleted by them, so they are parsed and planned once per connection and shard, not once per batch.
enum OutboxStatements {
    /// Claims the oldest unclaimed rows for a while and returns them, each with its payload or, for a row that refers
    /// to a tweet, the tweet and its author as they are now (NULLs when the tweet is gone). `$1` the claim in
    /// milliseconds, `$2` the most rows.
    ///
    /// The rows are chosen in an array (`= ANY(ARRAY(…))`), so the choice runs once whatever the plan: written as
    /// `IN (…)`, a plan made while the outbox looked empty (its statistics are taken when the relay has just drained
    /// it) joined every outbox row against the choice made again, which cost 5 to 15 ms a claim under load.
    static func claim(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "outbox_claim.\(schema)",
            sql: """
                WITH claimed AS (
                    UPDATE \(schema).outbox SET claimed_until = now() + $1::bigint * interval '1 millisecond'
                    WHERE id = ANY(ARRAY(
                        SELECT id FROM \(schema).outbox WHERE claimed_until IS NULL OR claimed_until < now()
                        ORDER BY id LIMIT $2::bigint FOR UPDATE SKIP LOCKED
                    ))
                    RETURNING id, payload, tweet_id
                )
                SELECT c.id, c.payload, c.tweet_id, t.user_id, u.username, t.text, t.in_reply_to_id, u.followers_count
                FROM claimed c
                LEFT JOIN \(schema).tweets t ON t.id = c.tweet_id
                LEFT JOIN \(schema).users u ON u.id = t.user_id
                """
        )
    }

    /// Deletes delivered rows. `$1` their ids, as a `bigint[]`.
    static func delete(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "outbox_delete.\(schema)", sql: "DELETE FROM \(schema).outbox WHERE id = ANY($1::bigint[])")
    }
}
