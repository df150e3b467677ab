import Wire

/// The select list and decoder for ``UserRecord`` rows, shared by every query that returns users.
enum UserColumns {
    /// Columns of `users`, qualified by `alias`.
    static func list(_ alias: String) -> String {
        """
        \(alias).id, \(alias).username, (extract(epoch FROM \(alias).created_at) * 1000)::bigint AS created_ms,
        \(alias).followers_count, \(alias).following_count, \(alias).tweets_count
        """
    }

    static func decode(_ row: PostgresRow) throws -> UserRecord {
        UserRecord(
            id: try row.int64("id"),
            username: try row.string("username"),
            createdAtMillis: try row.int64("created_ms"),
            followersCount: try row.int64("followers_count"),
            followingCount: try row.int64("following_count"),
            tweetsCount: try row.int64("tweets_count")
        )
    }
}
