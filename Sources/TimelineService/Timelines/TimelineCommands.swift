import RedisCluster
import Wire

/// The Redis commands that change timelines; callers put many into one pipeline.
enum TimelineCommands {
    /// The ids of one timeline older than `maxID` and newer than `sinceID` (both exclusive; `nil`: no bound), newest
    /// first, at most `limit`.
    static func newestFirst(_ key: String, maxID: Int64?, sinceID: Int64?, limit: Int) -> RedisCommand {
        let newest: [UInt8] = maxID.map(TimelineKeys.exclusiveBound) ?? Array("-".utf8)
        let oldest: [UInt8] = sinceID.map(TimelineKeys.exclusiveBound) ?? Array("+".utf8)
        return RedisCommand("ZRANGEBYLEX", key: key, newest, oldest, "LIMIT", 0, limit)
    }

    /// Adds tweets (one `ZADD` for all of them) and trims the timeline to its newest `capacity` entries; nothing for
    /// no tweets.
    static func add(_ tweetIDs: [Int64], to key: String, capacity: Int) -> [RedisCommand] {
        guard !tweetIDs.isEmpty else { return [] }
        var zadd: [[UInt8]] = [Array("ZADD".utf8), Array(key.utf8)]
        zadd.reserveCapacity(2 + 2 * tweetIDs.count)
        for id in tweetIDs {
            zadd += [Array("0".utf8), TimelineKeys.member(id)]
        }
        return [
            RedisCommand(arguments: zadd, keyPositions: [1]),
            RedisCommand("ZREMRANGEBYRANK", key: key, capacity, -1),
        ]
    }

    static func remove(_ tweetID: Int64, from key: String) -> RedisCommand {
        RedisCommand("ZREM", key: key, TimelineKeys.member(tweetID))
    }

    /// Drops public entries older than `cutoffMillis`: every id made before then sorts after this bound.
    static func trimPublic(olderThanUnixMillis cutoffMillis: Int64) -> RedisCommand {
        let bound = TweeterID.make(unixMillis: cutoffMillis, shard: 0, sequence: 0)
        return RedisCommand("ZREMRANGEBYLEX", key: TimelineKeys.publicTimeline, TimelineKeys.exclusiveBound(bound), "+")
    }
}
