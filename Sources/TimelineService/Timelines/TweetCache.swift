import Foundation
import NIOCore
import RedisCluster
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
    /// This instance's hot tweets, in front of Redis.
    let local: LocalTweetCache

    init(redis: RedisClient, tweetService: WireClient, configuration: TimelineConfiguration) {
        self.redis = redis
        self.tweetService = tweetService
        self.configuration = configuration
        local = LocalTweetCache(capacity: configuration.localCacheCapacity)
    }

    /// The tweets with these ids that still exist, in the order given, and the ids that do not.
    ///
    /// - Parameters:
    ///   - log: the ``DeletionLog`` stream the read asked about, and the reply to its ``DeletionLog/probe(_:)``,
    ///     sent after the read began: deletes announced before it are applied to ``local`` first.
    func hydrate(_ ids: [Int64], log: (index: Int, probe: RedisValue)) async throws -> Hydration {
        try await synchronize(log: log.index, newest: DeletionLog.newestID(in: log.probe))
        guard !ids.isEmpty else { return Hydration(tweets: [], deleted: []) }
        var (found, generation) = local.lookup(ids)
        let wanted = found.isEmpty ? ids : ids.filter { found[$0] == nil }
        guard !wanted.isEmpty else { return Hydration(tweets: ids.compactMap { found[$0] }, deleted: []) }
        let cached = try await redis.pipeline(wanted.map { RedisCommand("GET", key: TimelineKeys.tweet($0)) })
        var fetched: [TweetRecord] = []
        var misses: [Int64] = []
        var deleted: [Int64] = []
        for (id, value) in zip(wanted, cached) {
            guard let bytes = value.bytes else {
                misses.append(id)
                continue
            }
            if !bytes.isEmpty, let tweet = try? TweetRecord(payload: ByteBuffer(bytes: bytes)) {
                fetched.append(tweet)
            } else {
                deleted.append(id)
            }
        }
        if !misses.isEmpty {
            var stored: [TweetRecord] = []
            for start in stride(from: 0, to: misses.count, by: TweetListBudget.maxIDsPerCall) {
                let chunk = Array(misses[start..<min(start + TweetListBudget.maxIDsPerCall, misses.count)])
                stored += try await tweetService.call(GetTweets.self, IDList(ids: chunk)).tweets
            }
            let gone = Set(misses).subtracting(stored.map(\.id))
            deleted += gone
            try await store(stored, tombstones: Array(gone))
            fetched += stored
        }
        local.insert(fetched, ifGeneration: generation)
        for tweet in fetched {
            found[tweet.id] = tweet
        }
        return Hydration(tweets: ids.compactMap { found[$0] }, deleted: deleted)
    }

    /// Brings ``local`` up to the newest entry of stream `log` that the read saw (`newest`): evicts the tweets
    /// announced since this instance last read that stream, or forgets every tweet when it cannot tell what it missed
    /// (first read of the stream, the stream lost or trimmed past its position, too far behind).
    private func synchronize(log: Int, newest: StreamEntryID?) async throws {
        let position = local.position(log)
        let start: StreamEntryID?
        switch (position, newest) {
        case (.at(let seen), .some(let newest)) where newest <= seen:
            return
        case (.empty, .none):
            return
        case (.at(let seen), .some):
            start = seen
        case (.empty, .some):
            start = nil
        case (.unknown, _), (.at, .none):
            local.apply(log: log, to: newest.map { .at($0) } ?? .empty, deleted: [], forgetAll: true)
            return
        }
        let reply = try await redis.send(DeletionLog.entries(log, from: start))
        var entries = try DeletionLog.parse(reply)
        guard let last = entries.last?.id else {
            local.apply(log: log, to: .empty, deleted: [], forgetAll: true)  // emptied since the probe: lost
            return
        }
        if let start {
            guard entries.first?.id == start else {
                local.apply(log: log, to: .at(last), deleted: [], forgetAll: true)  // trimmed past, or lost
                return
            }
            entries.removeFirst()
        }
        let behind = entries.count >= DeletionLog.maxCatchUp
        local.apply(log: log, to: .at(last), deleted: entries.flatMap(\.tweetIDs), forgetAll: behind)
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

    /// Caches created tweets and returns the ids among them whose tombstones are in the cache, one command per tweet
    /// in one pipeline: `SET … NX GET` writes a tweet only where its key is absent and answers what the key held, so
    /// a tombstone both keeps the tweet out and is reported by the command that would have cached it. A tweet older
    /// than the cache TTL is not cached (``oldestCachedMillis``), only looked up.
    /// - Parameter replication: replicas that must hold the writes before this returns.
    func storeCreated(_ tweets: [TweetRecord], replicatedTo replication: RedisReplication?) async throws -> Set<Int64> {
        guard !tweets.isEmpty else { return [] }
        let oldest = oldestCachedMillis
        let commands = tweets.map { tweet in
            TweeterID.unixMillis(of: tweet.id) > oldest
                ? RedisCommand(
                    "SET", key: TimelineKeys.tweet(tweet.id), tweet.payload(), "EX",
                    configuration.cacheTTL.redisSeconds,
                    "NX", "GET")
                : RedisCommand("GET", key: TimelineKeys.tweet(tweet.id))
        }
        let values = try await redis.pipeline(commands, replicatedTo: replication)
        return Set(zip(tweets, values).compactMap { tweet, value in value.bytes?.isEmpty == true ? tweet.id : nil })
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
        let oldest = oldestCachedMillis
        return tweets.filter { TweeterID.unixMillis(of: $0.id) > oldest }.map { tweet in
            RedisCommand("SET", key: TimelineKeys.tweet(tweet.id), tweet.payload(), "EX", ttl, "NX")
        }
            + tombstones.map {
                RedisCommand("SET", key: TimelineKeys.tweet($0), "", "EX", configuration.tombstoneTTL.redisSeconds)
            }
    }

    /// Tweets made before this instant (Unix milliseconds) are older than the cache TTL and are not cached.
    private var oldestCachedMillis: Int64 {
        Int64(Date().timeIntervalSince1970 * 1000) - configuration.cacheTTL.milliseconds
    }
}
