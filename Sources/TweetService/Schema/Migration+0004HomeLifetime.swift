extension Migration {
    /// Each follow says until when its follower's home timeline may exist (`home_until`), so that a fan-out reads only
    /// the followers whose homes it has to write (`docs/timelines.md`, "Idle followers"). The default, for new follows
    /// and for every follow that exists already, is `ExtendHomeLifetime.newFollowLifetime` (14 days and 5 minutes):
    /// at least as long as any home timeline lives unread. The index covers the fan-out's pages and their bounds.
    static let homeLifetime = Migration(
        version: 4,
        name: "home_lifetime",
        sql: """
            ALTER TABLE {schema}.followers
                ADD COLUMN home_until timestamptz NOT NULL DEFAULT now() + interval '14 days 5 minutes';
            CREATE INDEX followers_homes_newest_first ON {schema}.followers (followee_id, edge_id DESC)
                INCLUDE (follower_id, home_until);
            DROP INDEX {schema}.followers_newest_first;
            """
    )
}
