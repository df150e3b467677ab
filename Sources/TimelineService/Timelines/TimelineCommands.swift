import Wire

/// The Redis commands that change timelines; callers put many into one pipeline.
enum TimelineCommands {
    /// Adds a tweet and trims the timeline to its newest `capacity` entries.
    static func add(_ tweetID: Int64, to key: String, capacity: Int) -> [RedisCommand] {
        [
            RedisCommand("ZADD", key: key, 0, TimelineKeys.member(tweetID)),
            RedisCommand("ZREMRANGEBYRANK", key: key, 0, -(capacity + 1)),
        ]
    }

    /// Adds a tweet to a home timeline, trims it, and keeps it alive for `ttlSeconds` more.
    static func addToHome(_ tweetID: Int64, userID: Int64, capacity: Int, ttlSeconds: Int) -> [RedisCommand] {
        add(tweetID, to: TimelineKeys.home(userID), capacity: capacity)
            + [RedisCommand("EXPIRE", key: TimelineKeys.home(userID), ttlSeconds)]
    }

    static func remove(_ tweetID: Int64, from key: String) -> RedisCommand {
        RedisCommand("ZREM", key: key, TimelineKeys.member(tweetID))
    }

    /// Drops public entries older than `cutoffMillis`: every id made before then sorts below this bound.
    static func trimPublic(olderThanUnixMillis cutoffMillis: Int64) -> RedisCommand {
        let bound = TweeterID.make(unixMillis: cutoffMillis, shard: 0, sequence: 0)
        return RedisCommand("ZREMRANGEBYLEX", key: TimelineKeys.publicTimeline, "-", TimelineKeys.exclusiveBound(bound))
    }
}
