extension Migration {
    /// A tweet's author is checked by the statement that creates it, no longer by a foreign key. The creation
    /// statement (``TweetStatements/create(schema:)``) locks the authors' rows before it writes and stores only the
    /// tweets whose author it found, and accounts are never deleted, so the key guarded nothing; its cascade would
    /// have deleted tweets without the events that take them out of the timelines.
    ///
    /// What it cost: PostgreSQL checks a foreign key with a plan it makes once per connection and keeps, and a plan
    /// made while the users table was a few pages long scans the whole table. The TweetService's connections live
    /// long, the users of a busy shard are updated by every creation (their counters), so the table grows by dead
    /// versions between vacuums, and each tweet stored through a connection holding such a plan scanned all of it:
    /// a fifth of the machine's CPU during tweet creation in one run of `scripts/bench-gateway`
    /// (`docs/tweet-store.md`, "Migrations").
    static let tweetAuthorCheck = Migration(
        version: 7,
        name: "tweet_author_check",
        sql: "ALTER TABLE {schema}.tweets DROP CONSTRAINT IF EXISTS tweets_user_id_fkey;"
    )
}
