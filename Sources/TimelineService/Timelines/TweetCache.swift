import Foundation
import NIOCore
import Wire

/// Cache-aside tweet objects: one Redis key per tweet holding its Wire encoding; misses are fetched from the
/// TweetService in one batch and written back; tweets that no longer exist are remembered as tombstones and left out.
///
/// The tombstone wins every write, in any order: a tombstone is written unconditionally, a live tweet only with
/// `NX` (never over a tombstone, nor over the same tweet cached already), and only while the tweet is younger than
/// the cache TTL, so a create event replayed after its tombstone expired cannot bring the tweet back either.
struct TweetCache: Sendable {
    /// What ``hydrate(_:)`` found.
    struct Hydration: Sendable {
        /// The tweets that still exist, in the order asked.
        var tweets: [TweetRecord]
        /// Ids asked for that are deleted (a tombstone, or unknown to the store).
        var deleted: [Int64]
    }

    let redis: RedisClient
    let tweetService: WireClient
    let configuration: TimelineConfiguration

    /// The tweets with these ids that still exist, in the order given, and the ids that do not.
    func hydrate(_ ids: [Int64]) async throws -> Hydration {
        guard !ids.isEmpty else { return Hydration(tweets: [], deleted: []) }
        let cached = try await redis.pipeline(ids.map { RedisCommand("GET", key: TimelineKeys.tweet($0)) })
        var found: [Int64: TweetRecord] = [:]
        var misses: [Int64] = []
        var deleted: [Int64] = []
        for (id, value) in zip(ids, cached) {
            guard let bytes = value.bytes else {
                misses.append(id)
                continue
            }
            if !bytes.isEmpty, let tweet = try? TweetRecord(payload: ByteBuffer(bytes: bytes)) {
                found[id] = tweet
            } else {
                deleted.append(id)
            }
        }
        if !misses.isEmpty {
            var fetched: [TweetRecord] = []
            for start in stride(from: 0, to: misses.count, by: TweetListBudget.maxIDsPerCall) {
                let chunk = Array(misses[start..<min(start + TweetListBudget.maxIDsPerCall, misses.count)])
                fetched += try await tweetService.call(GetTweets.self, IDList(ids: chunk)).tweets
            }
            for tweet in fetched {
                found[tweet.id] = tweet
            }
            let gone = Set(misses).subtracting(fetched.map(\.id))
            deleted += gone
            try await store(fetched, tombstones: Array(gone))
        }
        return Hydration(tweets: ids.compactMap { found[$0] }, deleted: deleted)
    }

    /// Whether the tweet's tombstone is in the cache. (A missing key says nothing: the tweet may be live or expired.)
    func isDeleted(_ tweetID: Int64) async throws -> Bool {
        try await deleted(among: [tweetID]).contains(tweetID)
    }

    /// The ids among `tweetIDs` whose tombstones are in the cache, in one pipeline.
    func deleted(among tweetIDs: [Int64]) async throws -> Set<Int64> {
        guard !tweetIDs.isEmpty else { return [] }
        let values = try await redis.pipeline(tweetIDs.map { RedisCommand("GET", key: TimelineKeys.tweet($0)) })
        return Set(zip(tweetIDs, values).compactMap { id, value in value.bytes?.isEmpty == true ? id : nil })
    }

    /// Caches tweets, and tombstones for ids that no longer exist.
    /// - Parameter replication: replicas that must hold the writes before this returns (for tombstones of deletes).
    func store(_ tweets: [TweetRecord], tombstones: [Int64] = [], replicatedTo replication: RedisReplication? = nil)
        async throws
    {
        let commands = storeCommands(tweets, tombstones: tombstones)
        guard !commands.isEmpty else { return }
        _ = try await redis.pipeline(commands, replicatedTo: replication)
    }

    /// The commands of ``store(_:tombstones:)``, for callers that send them in a pipeline of their own.
    func storeCommands(_ tweets: [TweetRecord], tombstones: [Int64] = []) -> [RedisCommand] {
        let ttl = configuration.cacheTTL.redisSeconds
        let oldest = Int64(Date().timeIntervalSince1970 * 1000) - configuration.cacheTTL.milliseconds
        return tweets.filter { TweeterID.unixMillis(of: $0.id) > oldest }.map { tweet in
            RedisCommand("SET", key: TimelineKeys.tweet(tweet.id), tweet.payload(), "EX", ttl, "NX")
        }
            + tombstones.map {
                RedisCommand("SET", key: TimelineKeys.tweet($0), "", "EX", configuration.tombstoneTTL.redisSeconds)
            }
    }
}
