import Foundation
import Wire

/// Does the work of one ``FanOutJob``. Every write is idempotent (set adds and removes), so a job that runs twice,
/// after a worker died or a chunk was redelivered, changes nothing the second time.
///
/// Creates and deletes of one tweet are correct in any order. A delete writes the tombstone first (when it is
/// delivered, before it is queued) and removes the id from timelines after. A create adds the id first and reads
/// the tombstone after, removing what it added if it finds one: either the delete's removals ran after the add, or
/// the create's check ran after the tombstone. A create that finds the tombstone before it starts writes nothing.
struct FanOutProcessor: Sendable {
    let redis: RedisClient
    let tweetService: WireClient
    let cache: TweetCache
    let configuration: TimelineConfiguration

    /// Runs the job. Work it leads to (the first or next chunk of followers) is queued in the same pipeline.
    func process(_ job: FanOutJob) async throws {
        switch job.work {
        case .event(let event):
            try await apply(event)
        case .followerChunk(let tweetID, let authorID, let cursor, let remove):
            try await fanOut(tweetID: tweetID, authorID: authorID, cursor: cursor, remove: remove)
        }
    }

    private func apply(_ event: TimelineEvent) async throws {
        switch event.change {
        case .tweetCreated(let tweet):
            // Three questions at once: the tombstone, the author's size, the first page of followers.
            async let deleted = cache.isDeleted(tweet.id)
            async let celebrity = isCelebrity(tweet.userID)
            async let firstPage = followerPage(of: tweet.userID, after: nil)
            if try await deleted {
                return  // the delete came first (a redelivered or reordered create): the tombstone wins
            }
            // The cache, the author's own timelines and the public one in one pipeline, beside the delivery to the
            // first page of followers; further pages go to chunk jobs (most authors have one page: no job at all).
            let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - configuration.publicMaxAge.milliseconds
            var commands = cache.storeCommands([tweet])
            commands += TimelineCommands.add(
                tweet.id, to: TimelineKeys.publicTimeline, capacity: configuration.publicCapacity)
            commands.append(TimelineCommands.trimPublic(olderThanUnixMillis: cutoff))
            commands += TimelineCommands.add(
                tweet.id, to: TimelineKeys.profile(tweet.userID), capacity: configuration.profileCapacity)
            commands += TimelineCommands.addToHome(
                [tweet.id], userID: tweet.userID, capacity: configuration.homeCapacity,
                ttlSeconds: configuration.idleTimelineTTL.redisSeconds
            )
            var followers: [Int64] = []
            if try await celebrity {
                commands.append(RedisCommand("SADD", key: TimelineKeys.celebrities, tweet.userID))
            } else {
                let page = try await firstPage
                followers = page.ids
                if let next = page.nextCursor {
                    commands.append(
                        FanOutQueue.addOnce(
                            FanOutJob(
                                .followerChunk(tweetID: tweet.id, authorID: tweet.userID, cursor: next, remove: false))
                        ))
                }
            }
            async let own = redis.pipeline(commands, replicatedTo: configuration.replication)
            try await HomeDelivery(redis: redis, configuration: configuration).add(tweet.id, to: followers)
            _ = try await own
            let ownKeys = [
                TimelineKeys.publicTimeline, TimelineKeys.profile(tweet.userID), TimelineKeys.home(tweet.userID),
            ]
            try await undoIfDeleted(tweet.id, keys: ownKeys + followers.map(TimelineKeys.home))
        case .tweetDeleted(let tweetID, let authorID):
            // The tombstone first, on its own: the removals must come after it (see the type's comment), and in one
            // pipeline they could run first on their nodes. (Delivery wrote it already; this covers redeliveries.)
            try await cache.store([], tombstones: [tweetID], replicatedTo: configuration.replication)
            var commands = [
                TimelineCommands.remove(tweetID, from: TimelineKeys.publicTimeline),
                TimelineCommands.remove(tweetID, from: TimelineKeys.profile(authorID)),
                TimelineCommands.remove(tweetID, from: TimelineKeys.home(authorID)),
            ]
            // A celebrity's tweets were merged at read time, not written to followers; the tombstone hides any that
            // were written before the author crossed the threshold.
            let celebrity =
                try await redis.send(RedisCommand("SISMEMBER", key: TimelineKeys.celebrities, authorID)).integer == 1
            if !celebrity {
                commands.append(
                    FanOutQueue.addOnce(
                        FanOutJob(.followerChunk(tweetID: tweetID, authorID: authorID, cursor: nil, remove: true))))
            }
            _ = try await redis.pipeline(commands, replicatedTo: configuration.replication)
        case .followed(let edge):
            // Backfill the followee's recent tweets, so that a new follow shows at once.
            let recent = try await redis.send(
                RedisCommand(
                    "ZREVRANGEBYLEX", key: TimelineKeys.profile(edge.followeeID), "+", "-", "LIMIT", 0,
                    configuration.followBackfill)
            )
            let ids = (recent.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
            var commands = TimelineCommands.addToHome(
                ids, userID: edge.followerID, capacity: configuration.homeCapacity,
                ttlSeconds: configuration.idleTimelineTTL.redisSeconds
            )
            commands.append(RedisCommand("DEL", key: TimelineKeys.followedCelebrities(edge.followerID)))
            _ = try await redis.pipeline(commands, replicatedTo: configuration.replication)
        case .unfollowed(let edge):
            // Tweets already delivered stay, as on every large timeline service; only the read-time merge changes.
            _ = try await redis.send(RedisCommand("DEL", key: TimelineKeys.followedCelebrities(edge.followerID)))
        }
    }

    /// Whether the author has passed the celebrity threshold (asked of the store, which keeps the counter).
    private func isCelebrity(_ authorID: Int64) async throws -> Bool {
        guard let threshold = configuration.celebrityThreshold else { return false }
        let author = try await tweetService.call(GetUsers.self, IDList(ids: [authorID])).users.first
        return (author?.followersCount ?? 0) >= threshold
    }

    /// Removes `tweetID` from `keys` if its tombstone exists now: the second half of a create that raced a delete.
    private func undoIfDeleted(_ tweetID: Int64, keys: [String]) async throws {
        if try await cache.isDeleted(tweetID) {
            _ = try await redis.pipeline(
                keys.map { TimelineCommands.remove(tweetID, from: $0) }, replicatedTo: configuration.replication)
        }
    }

    /// One page of followers: write (or remove) the tweet in each home timeline, then queue the next page.
    private func fanOut(tweetID: Int64, authorID: Int64, cursor: Int64?, remove: Bool) async throws {
        if !remove, try await cache.isDeleted(tweetID) {
            return  // deleted meanwhile: the delete's own chunks remove whatever earlier chunks added
        }
        let page = try await followerPage(of: authorID, after: cursor)
        // The next page is queued first, so that another worker starts on it while this page is written: the chunks
        // of one tweet run in parallel over every worker of every instance, not one after another.
        if let next = page.nextCursor {
            let job = FanOutJob(.followerChunk(tweetID: tweetID, authorID: authorID, cursor: next, remove: remove))
            _ = try await redis.pipeline([FanOutQueue.addOnce(job)], replicatedTo: configuration.replication)
        }
        if remove {
            let removals = page.ids.map { TimelineCommands.remove(tweetID, from: TimelineKeys.home($0)) }
            if !removals.isEmpty {
                _ = try await redis.pipeline(removals, replicatedTo: configuration.replication)
            }
        } else {
            try await HomeDelivery(redis: redis, configuration: configuration).add(tweetID, to: page.ids)
            try await undoIfDeleted(tweetID, keys: page.ids.map(TimelineKeys.home))
        }
    }

    /// One page of the author's followers, newest edge first, of ``TimelineConfiguration/fanOutChunkSize``.
    private func followerPage(of authorID: Int64, after cursor: Int64?) async throws -> IDList {
        try await tweetService.call(
            ListFollowerIDs.self,
            PageRequest(userID: authorID, limit: UInt32(configuration.fanOutChunkSize), cursor: cursor),
            timeout: .seconds(30)
        )
    }
}
