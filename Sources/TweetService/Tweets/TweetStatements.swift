/// The prepared statements of tweet creation, one of each per shard (the schema is part of the SQL text, so each
/// shard has its own plan).
enum TweetStatements {
    /// A fresh id from the shard's `next_id()` and the author's username: no row when the author does not exist.
    /// `$1` the author's id.
    static func allocate(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "allocate_tweet.\(schema)",
            sql: "SELECT \(schema).next_id() AS id, username, followers_count FROM \(schema).users WHERE id = $1"
        )
    }

    /// The tweet, the author's counter and the tweet's outbox event, in one statement and so in one transaction.
    /// `$1` id, `$2` author, `$3` text, `$4` the tweet replied to or NULL, `$5` creation in Unix ms, `$6` the event
    /// as `bytea` text.
    static func insert(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "insert_tweet.\(schema)",
            sql: """
                WITH inserted AS (
                    INSERT INTO \(schema).tweets (id, user_id, text, in_reply_to_id, created_at)
                    VALUES ($1::bigint, $2::bigint, $3::text, $4::bigint, to_timestamp($5::bigint / 1000.0)) RETURNING id
                ),
                counted AS (UPDATE \(schema).users SET tweets_count = tweets_count + 1 WHERE id = $2::bigint),
                event AS (INSERT INTO \(schema).outbox (payload) VALUES ($6::bytea))
                SELECT id FROM inserted
                """
        )
    }
}
