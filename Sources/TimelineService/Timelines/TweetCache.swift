import NIOCore
import Wire

/// Cache-aside tweet objects: one Redis key per tweet holding its Wire encoding; misses are fetched from the
/// TweetService in one batch and written back; tweets that no longer exist are remembered as tombstones and left out.
struct TweetCache: Sendable {
    let redis: RedisClient
    let tweetService: WireClient
    let configuration: TimelineConfiguration

    /// The tweets with these ids that still exist, in the order given.
    func hydrate(_ ids: [Int64]) async throws -> [TweetRecord] {
        guard !ids.isEmpty else { return [] }
        let cached = try await redis.pipeline(ids.map { RedisCommand("GET", key: TimelineKeys.tweet($0)) })
        var found: [Int64: TweetRecord] = [:]
        var misses: [Int64] = []
        for (id, value) in zip(ids, cached) {
            guard let bytes = value.bytes else {
                misses.append(id)
                continue
            }
            if !bytes.isEmpty, let tweet = try? TweetRecord(payload: ByteBuffer(bytes: bytes)) {
                found[id] = tweet
            }
        }
        if !misses.isEmpty {
            let fetched = try await tweetService.call(GetTweets.self, IDList(ids: misses)).tweets
            for tweet in fetched {
                found[tweet.id] = tweet
            }
            let gone = Set(misses).subtracting(fetched.map(\.id))
            try await store(fetched, tombstones: Array(gone))
        }
        return ids.compactMap { found[$0] }
    }

    /// Caches tweets, and tombstones for ids that no longer exist.
    func store(_ tweets: [TweetRecord], tombstones: [Int64] = []) async throws {
        let commands = storeCommands(tweets, tombstones: tombstones)
        guard !commands.isEmpty else { return }
        _ = try await redis.pipeline(commands)
    }

    /// The commands of ``store(_:tombstones:)``, for callers that send them in a pipeline of their own.
    func storeCommands(_ tweets: [TweetRecord], tombstones: [Int64] = []) -> [RedisCommand] {
        let ttl = configuration.cacheTTL.redisSeconds
        return tweets.map { tweet in RedisCommand("SET", key: TimelineKeys.tweet(tweet.id), tweet.payload(), "EX", ttl) }
            + tombstones.map { RedisCommand("SET", key: TimelineKeys.tweet($0), "", "EX", ttl) }
    }
}
