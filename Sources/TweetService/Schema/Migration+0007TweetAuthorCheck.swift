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
    ///
    /// Dropping the key locks both tables exclusively, the busiest of the shard, on a live system. So the locks are
    /// taken in the order tweet creation takes them (users, then tweets: no deadlock with it), and each attempt waits
    /// at most ``lockAttempt`` before it gives way for as long again and tries anew: a long transaction on either
    /// table (a shard move's copy, a long read) delays the migration, never the shard's traffic behind it for more
    /// than an attempt. After about two minutes of attempts the migration fails, and runs again at the next start.
    static let tweetAuthorCheck = Migration(
        version: 7,
        name: "tweet_author_check",
        sql: """
            DO $$
            BEGIN
                FOR attempt IN 1..240 LOOP
                    BEGIN
                        PERFORM set_config('lock_timeout', '\(lockAttempt.milliseconds)ms', true);
                        LOCK TABLE {schema}.users, {schema}.tweets IN ACCESS EXCLUSIVE MODE;
                        ALTER TABLE {schema}.tweets DROP CONSTRAINT IF EXISTS tweets_user_id_fkey;
                        RETURN;
                    EXCEPTION WHEN lock_not_available THEN
                        PERFORM pg_sleep(\(Double(lockAttempt.milliseconds) / 1000));
                    END;
                END LOOP;
                RAISE EXCEPTION 'the users and tweets tables of {schema} stayed locked through 240 attempts';
            END
            $$;
            """
    )

    /// The longest one attempt of ``tweetAuthorCheck`` waits for its locks, holding up the shard's statements that
    /// queue behind it: well under the pool's `lock_timeout` (1 s), so that they still get their locks.
    static let lockAttempt: Duration = .milliseconds(250)
}
