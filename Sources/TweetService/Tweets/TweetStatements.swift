import Wire

/// The prepared statement of tweet creation, one per shard (the schema is part of the SQL text, so each shard has its
/// own plan).
enum TweetStatements {
    /// The tweet with a fresh id from the shard's `next_id()`, the author's counter and the tweet's outbox event (a
    /// reference to the tweet, which the relay reads when it sends the event), in one statement and so in one
    /// transaction and one round trip. Returns the id and the author's username; no row when the author does not
    /// exist, and then nothing is written. The creation time is the one in the id (``TweeterID/unixMillis(of:)``).
    /// `$1` the author's id, `$2` text, `$3` the tweet replied to or NULL.
    static func create(schema: String) -> PreparedStatement {
        PreparedStatement(
            name: "create_tweet.\(schema)",
            sql: """
                WITH author AS (
                    UPDATE \(schema).users SET tweets_count = tweets_count + 1 WHERE id = $1::bigint
                    RETURNING id, username
                ),
                inserted AS (
                    INSERT INTO \(schema).tweets (id, user_id, text, in_reply_to_id, created_at)
                    SELECT fresh.id, author.id, $2::text, $3::bigint,
                        to_timestamp(((fresh.id >> \(TweeterID.shardBits + TweeterID.sequenceBits)) + \(TweeterID.epochMillis)) / 1000.0)
                    FROM author CROSS JOIN LATERAL (SELECT \(schema).next_id() AS id) fresh
                    RETURNING id
                ),
                event AS (INSERT INTO \(schema).outbox (tweet_id) SELECT id FROM inserted)
                SELECT inserted.id, author.username FROM inserted CROSS JOIN author
                """
        )
    }
}
