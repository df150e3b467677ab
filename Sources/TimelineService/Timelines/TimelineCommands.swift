import RedisCluster
import Wire

/// The Redis commands that read and change timelines; callers put many into one pipeline.
///
/// Homes and profiles are lists, newest first, kept in order by ``TimelineScripts``. The public timeline is the one
/// sorted set: a single hot key of 10,000 entries (a skiplist, where an insert anywhere costs about 2 µs), into which
/// the tweets of every shard arrive slightly out of order, and which is cut by age.
enum TimelineCommands {
    /// The ids of one timeline older than `maxID` and newer than `sinceID` (both exclusive; `nil`: no bound), newest
    /// first, at most `limit` (negative: all).
    static func newestFirst(_ key: String, maxID: Int64?, sinceID: Int64?, limit: Int) -> RedisCommand {
        if key == TimelineKeys.publicTimeline {
            let newest: [UInt8] = maxID.map(TimelineKeys.exclusiveBound) ?? Array("-".utf8)
            let oldest: [UInt8] = sinceID.map(TimelineKeys.exclusiveBound) ?? Array("+".utf8)
            return RedisCommand("ZRANGEBYLEX", key: key, newest, oldest, "LIMIT", 0, limit)
        }
        guard maxID != nil || sinceID != nil else {
            // `LRANGE key 1 0` for no entries: a stop of -1 would mean all of them.
            return RedisCommand("LRANGE", key: key, limit == 0 ? 1 : 0, limit < 0 ? -1 : max(0, limit - 1))
        }
        return RedisCommand(
            script: pageScript, keys: [Array(key.utf8)],
            arguments: [
                maxID.map(TimelineKeys.member) ?? [], sinceID.map(TimelineKeys.member) ?? [], limit.redisArgument,
            ])
    }

    /// Adds tweets and trims the timeline to its newest `capacity` entries: the public timeline at once, a home or a
    /// profile once it is more than `trimSlack` over (one trim for that many writes). Nothing for no tweets.
    static func add(_ tweetIDs: [Int64], to key: String, capacity: Int, trimSlack: Int) -> [RedisCommand] {
        guard !tweetIDs.isEmpty else { return [] }
        if key == TimelineKeys.publicTimeline {
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
        let newestFirst = Set(tweetIDs).sorted(by: >)
        return [
            RedisCommand(
                script: addScript, keys: [Array(key.utf8)],
                arguments: [capacity.redisArgument, trimSlack.redisArgument] + newestFirst.map(TimelineKeys.member))
        ]
    }

    static func remove(_ tweetID: Int64, from key: String) -> RedisCommand {
        key == TimelineKeys.publicTimeline
            ? RedisCommand("ZREM", key: key, TimelineKeys.member(tweetID))
            : RedisCommand("LREM", key: key, 0, TimelineKeys.member(tweetID))
    }

    /// Drops public entries older than `cutoffMillis`: every id made before then sorts after this bound.
    static func trimPublic(olderThanUnixMillis cutoffMillis: Int64) -> RedisCommand {
        let bound = TweeterID.make(unixMillis: cutoffMillis, shard: 0, sequence: 0)
        return RedisCommand("ZREMRANGEBYLEX", key: TimelineKeys.publicTimeline, TimelineKeys.exclusiveBound(bound), "+")
    }

    private static let pageScript = RedisScript(TimelineScripts.page)
    private static let addScript = RedisScript(TimelineScripts.add)
}
