extension Migration {
    /// A tweet's creation event is stored as a reference to the tweet (`tweet_id`, with its author's username and
    /// follower count as the creation found them) instead of its encoded bytes, so that creating a tweet is one
    /// statement: the id, the row, the author's counter and the event together, with no round trip before it to learn
    /// the id the event must carry. The relay reads the tweet when it claims the row (`docs/tweet-store.md`,
    /// "Events"); it need not read the author's row, which every creation updates. Every other event keeps its
    /// `payload`; a row has exactly one of the two. Dead letters keep whichever the row had.
    static let outboxTweetReferences = Migration(
        version: 5,
        name: "outbox_tweet_references",
        sql: """
            ALTER TABLE {schema}.outbox ADD COLUMN tweet_id bigint, ADD COLUMN author_username text,
                ADD COLUMN author_followers bigint, ALTER COLUMN payload DROP NOT NULL,
                ADD CONSTRAINT outbox_payload_or_tweet CHECK (
                    (payload IS NOT NULL AND tweet_id IS NULL)
                    OR (payload IS NULL AND tweet_id IS NOT NULL AND author_username IS NOT NULL
                        AND author_followers IS NOT NULL));
            ALTER TABLE {schema}.outbox_dead_letters ADD COLUMN tweet_id bigint, ADD COLUMN author_username text,
                ADD COLUMN author_followers bigint, ALTER COLUMN payload DROP NOT NULL;
            """
    )
}
