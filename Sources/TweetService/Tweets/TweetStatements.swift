import Wire

/// The prepared statement of tweet creation, one per shard (the schema is part of the SQL text, so each shard has its
/// own plan).
enum TweetStatements {
    /// A group of tweets created together (``TweetCreationBatches``), each with a fresh id from the shard's
    /// `next_id()`, their authors' counters and one outbox row per tweet (a reference to the tweet, which the relay
    /// reads when it sends the event, with its author's username and follower count), in one statement and so in one
    /// transaction and one round trip.
    ///
    /// `$1` the authors' ids, `$2` the texts, `$3` the tweets replied to (NULL for none): arrays of the same length,
    /// one element per tweet. Returns, for each tweet stored, its position in the arrays (`n`, from 1), its id and its
    /// author's username; a tweet whose author does not exist is left out, and nothing of it is written. That join is
    /// the only check of a tweet's author (no foreign key since migration 7: ``Migration/tweetAuthorCheck``). The
    /// authors' rows are locked in id order before anything is written, so groups that share authors (from several
    /// TweetService instances) wait for each other instead of deadlocking. Ids are drawn in the order of the arrays,
    /// and the creation time is the one in the id (``TweeterID/unixMillis(of:)``).
    static func create(schema: String) -> PreparedStatement {
        let idTimeShift = TweeterID.shardBits + TweeterID.sequenceBits
        return PreparedStatement(
            name: "create_tweets.\(schema)",
            sql: """
                WITH input AS (
                    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
                        WITH ORDINALITY AS i(author_id, text, in_reply_to_id, n)
                ),
                authors AS (
                    SELECT id, username, followers_count FROM \(schema).users WHERE id IN (SELECT author_id FROM input)
                    ORDER BY id FOR NO KEY UPDATE
                ),
                fresh AS MATERIALIZED (
                    SELECT input.n, input.author_id, input.text, input.in_reply_to_id, \(schema).next_id() AS id
                    FROM input JOIN authors ON authors.id = input.author_id
                    ORDER BY input.n
                ),
                counted AS (
                    UPDATE \(schema).users SET tweets_count = tweets_count + added.tweets
                    FROM (SELECT author_id, count(*) AS tweets FROM fresh GROUP BY author_id) added
                    WHERE users.id = added.author_id
                ),
                inserted AS (
                    INSERT INTO \(schema).tweets (id, user_id, text, in_reply_to_id, created_at)
                    SELECT id, author_id, text, in_reply_to_id,
                        to_timestamp(((id >> \(idTimeShift)) + \(TweeterID.epochMillis)) / 1000.0)
                    FROM fresh
                ),
                event AS (
                    INSERT INTO \(schema).outbox (tweet_id, author_username, author_followers)
                    SELECT fresh.id, authors.username, authors.followers_count
                    FROM fresh JOIN authors ON authors.id = fresh.author_id ORDER BY fresh.id
                )
                SELECT fresh.n, fresh.id, authors.username FROM fresh JOIN authors ON authors.id = fresh.author_id
                """
        )
    }
}
