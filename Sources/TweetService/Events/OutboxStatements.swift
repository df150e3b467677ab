/// The prepared statements of the outbox relay's hot path, one of each per shard: every delivered event is claimed
/// and deleted by them, so they are parsed and planned once per connection and shard, not once per batch.
enum OutboxStatements {
    /// Claims the oldest unclaimed rows for a while and returns them. `$1` the claim in milliseconds, `$2` the most
    /// rows.
    static func claim(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "outbox_claim.\(schema)",
            sql: """
                UPDATE \(schema).outbox SET claimed_until = now() + $1::bigint * interval '1 millisecond'
                WHERE id IN (
                    SELECT id FROM \(schema).outbox WHERE claimed_until IS NULL OR claimed_until < now()
                    ORDER BY id LIMIT $2::bigint FOR UPDATE SKIP LOCKED
                )
                RETURNING id, payload
                """
        )
    }

    /// Deletes delivered rows. `$1` their ids, as a `bigint[]`.
    static func delete(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "outbox_delete.\(schema)", sql: "DELETE FROM \(schema).outbox WHERE id = ANY($1::bigint[])")
    }
}
