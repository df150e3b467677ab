import Foundation
import Metrics
import RedisCluster
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
    /// Signalled when the processor queues jobs (a fan-out's further followers), so that an idle worker takes them at
    /// once.
    let wakeUps: FanOutWakeUps
    /// Writes that failed and whose tombstone check failed after them too (see ``writeThenUndoIfDeleted(_:undo:)``).
    private let undoFailures = Counter(label: "timeline_fanout_undo_failures_total")

    /// A created tweet, as its event carries it.
    struct CreatedTweet: Sendable {
        let tweet: TweetRecord
        /// The author's follower count when the tweet was made; `nil` in events written before it was carried.
        let authorFollowers: Int64?
    }

    /// Runs the job. Work it leads to (the first or next chunk of followers) is queued in the same pipeline.
    func process(_ job: FanOutJob) async throws {
        switch job.work {
        case .events(let events):
            for event in events {
                try await apply(event)
            }
        case .followerChunk(let tweetID, let authorID, let cursor, let remove):
            try await fanOutToAll(tweetID: tweetID, authorID: authorID, after: cursor, remove: remove)
        case .followerRange(let tweetID, let authorID, let cursor, let until, let remove):
            try await fanOut(tweetID: tweetID, authorID: authorID, cursor: cursor, until: until, remove: remove)
        }
    }

    /// Applies the creation of several tweets at once, as ``process(_:)`` would one by one, with the round trips of
    /// one: a pipeline that caches the tweets and finds their tombstones beside one call for the authors' first pages
    /// of followers (one per 10 authors at the default chunk of 5,000), one pipeline for the public timeline beside one
    /// script call per master for every profile and one for every home timeline (the followers' and the authors'
    /// own), and one pipeline to check the tombstones again.
    func create(_ created: [CreatedTweet]) async throws {
        guard !created.isEmpty else { return }
        // Three at once: the tweets cached unless they have tombstones (which the same commands report), which authors
        // are celebrities, and the first page of followers of every author not known to be one.
        async let deleted = cache.storeCreated(created.map(\.tweet), replicatedTo: configuration.replication)
        async let celebrities = celebrities(among: created)
        async let firstPages = firstFollowerPages(
            of: Set(created.filter { !isCelebrity(followers: $0.authorFollowers) }.map(\.tweet.userID)))
        let deletedIDs = try await deleted
        // A delete that came first (a redelivered or reordered create): the tombstone wins.
        let live = created.filter { !deletedIDs.contains($0.tweet.id) }
        guard !live.isEmpty else { return }
        let celebrityIDs = try await celebrities
        let pages = try await firstPages
        // Each timeline once, with all of its new tweets, in three requests at once: the public timeline (and the chunk
        // jobs of further pages of followers: most authors have one page, no job) in one pipeline; the authors'
        // profiles; the authors' own homes, when built, with the first page of each author's followers (each of the
        // last two one script call per master, ``TimelineDelivery``).
        var commands = TimelineCommands.add(
            live.map(\.tweet.id), to: TimelineKeys.publicTimeline, capacity: configuration.publicCapacity,
            trimSlack: 0)
        let profiles = live.map { TimelineDelivery.Item(tweetID: $0.tweet.id, owners: [$0.tweet.userID]) }
        var jobs: [FanOutJob] = []
        var deliveries: [TimelineDelivery.Item] = []
        var written: [(tweetID: Int64, keys: [String])] = []
        for tweet in live.map(\.tweet) {
            var keys = [
                TimelineKeys.publicTimeline, TimelineKeys.profile(tweet.userID), TimelineKeys.home(tweet.userID),
            ]
            deliveries.append(TimelineDelivery.Item(tweetID: tweet.id, owners: [tweet.userID]))
            if celebrityIDs.contains(tweet.userID) {
                commands.append(RedisCommand("SADD", key: TimelineKeys.celebrities, tweet.userID))
            } else if let page = pages[tweet.userID] {
                deliveries.append(TimelineDelivery.Item(tweetID: tweet.id, owners: page.ids))
                keys += page.ids.map(TimelineKeys.home)
                if let next = page.nextCursor {
                    jobs.append(
                        FanOutJob(
                            .followerChunk(tweetID: tweet.id, authorID: tweet.userID, cursor: next, remove: false)))
                }
            }
            written.append((tweet.id, keys))
        }
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - configuration.publicMaxAge.milliseconds
        commands.append(TimelineCommands.trimPublic(olderThanUnixMillis: cutoff))
        try await writeThenUndoIfDeleted { [jobs, commands, deliveries] in
            async let own: Void = queue(jobs, after: commands)
            async let profilesWritten: Void = TimelineDelivery(
                redis: redis, configuration: configuration, timelines: .profiles
            ).add(profiles)
            try await TimelineDelivery(redis: redis, configuration: configuration).add(deliveries)
            try await own
            try await profilesWritten
        } undo: {
            try await undoIfDeleted(written)
        }
    }

    private func apply(_ event: TimelineEvent) async throws {
        switch event.change {
        case .tweetCreated(let tweet, let authorFollowers):
            try await create([CreatedTweet(tweet: tweet, authorFollowers: authorFollowers)])
        case .tweetDeleted(let tweetID, let authorID):
            // The tombstone first, on its own: the removals must come after it (see the type's comment), and in one
            // pipeline they could run first on their nodes. (Delivery wrote it already; this covers redeliveries.)
            try await cache.store([], tombstones: [tweetID], replicatedTo: configuration.replication)
            let commands = [
                TimelineCommands.remove(tweetID, from: TimelineKeys.publicTimeline),
                TimelineCommands.remove(tweetID, from: TimelineKeys.profile(authorID)),
                TimelineCommands.remove(tweetID, from: TimelineKeys.home(authorID)),
            ]
            // A celebrity's tweets were merged at read time, not written to followers; the tombstone hides any that
            // were written before the author crossed the threshold.
            let celebrity =
                try await redis.send(RedisCommand("SISMEMBER", key: TimelineKeys.celebrities, authorID)).integer == 1
            let jobs =
                celebrity
                ? [] : [FanOutJob(.followerChunk(tweetID: tweetID, authorID: authorID, cursor: nil, remove: true))]
            try await queue(jobs, after: commands)
        case .followed(let edge):
            // Backfill the followee's recent tweets, so that a new follow shows at once.
            let recent = try await redis.send(
                TimelineCommands.newestFirst(
                    TimelineKeys.profile(edge.followeeID), maxID: nil, sinceID: nil, limit: configuration.followBackfill
                )
            )
            // Into a built home only, like any delivery: an unbuilt one is rebuilt from the store, follow included.
            let ids = (recent.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
            try await TimelineDelivery(redis: redis, configuration: configuration).add(
                ids.map { TimelineDelivery.Item(tweetID: $0, owners: [edge.followerID]) })
            _ = try await redis.pipeline(
                [RedisCommand("DEL", key: TimelineKeys.followedCelebrities(edge.followerID))],
                replicatedTo: configuration.replication)
        case .unfollowed(let edge):
            // Tweets already delivered stay, as on every large timeline service; only the read-time merge changes.
            _ = try await redis.send(RedisCommand("DEL", key: TimelineKeys.followedCelebrities(edge.followerID)))
        }
    }

    /// Whether a follower count passes the celebrity threshold; `false` when the count is unknown.
    private func isCelebrity(followers: Int64?) -> Bool {
        guard let threshold = configuration.celebrityThreshold, let followers else { return false }
        return followers >= threshold
    }

    /// The authors among `created` that have passed the celebrity threshold: by the count each event carries, or,
    /// for events written before the count was carried, by asking the store (one call for all of them).
    private func celebrities(among created: [CreatedTweet]) async throws -> Set<Int64> {
        guard let threshold = configuration.celebrityThreshold else { return [] }
        let known = Set(created.filter { isCelebrity(followers: $0.authorFollowers) }.map(\.tweet.userID))
        let unknown = Set(created.filter { $0.authorFollowers == nil }.map(\.tweet.userID))
        guard !unknown.isEmpty else { return known }
        let ids = Array(unknown)
        var celebrities = known
        for start in stride(from: 0, to: ids.count, by: GetUsers.maxIDs) {
            let chunk = Array(ids[start..<min(start + GetUsers.maxIDs, ids.count)])
            let authors = try await tweetService.call(GetUsers.self, IDList(ids: chunk)).users
            celebrities.formUnion(authors.filter { $0.followersCount >= threshold }.map(\.id))
        }
        return celebrities
    }

    /// The first page of followers of each author: one ``ListFirstFollowerPages`` call per group of authors whose
    /// pages fit one answer (one trip per PostgreSQL server each), the groups asked at once.
    private func firstFollowerPages(of authors: Set<Int64>) async throws -> [Int64: IDList] {
        let limit = configuration.fanOutChunkSize
        let perCall = max(1, min(ListFirstFollowerPages.maxUserIDs, ListFirstFollowerPages.maxIDs / limit))
        let authors = Array(authors)
        let groups = stride(from: 0, to: authors.count, by: perCall).map {
            Array(authors[$0..<min($0 + perCall, authors.count)])
        }
        return try await withThrowingTaskGroup(of: [(Int64, IDList)].self) { group in
            for authors in groups {
                group.addTask {
                    let pages = try await tweetService.call(
                        ListFirstFollowerPages.self, FollowerPagesQuery(userIDs: authors, limit: UInt32(limit)),
                        timeout: .seconds(30))
                    guard pages.lists.count == authors.count else {
                        throw WireError(
                            .internal, reason: "bad_answer", "\(pages.lists.count) follower pages for \(authors.count)")
                    }
                    return Array(zip(authors, pages.lists))
                }
            }
            var pages: [Int64: IDList] = [:]
            for try await answered in group {
                for (author, page) in answered {
                    pages[author] = page
                }
            }
            return pages
        }
    }

    /// Removes each tweet from the keys it was written to if its tombstone exists now: the second half of a create
    /// that raced a delete.
    private func undoIfDeleted(_ written: [(tweetID: Int64, keys: [String])]) async throws {
        let deleted = try await cache.deleted(among: written.map(\.tweetID))
        let removals = written.filter { deleted.contains($0.tweetID) }.flatMap { tweet in
            tweet.keys.map { TimelineCommands.remove(tweet.tweetID, from: $0) }
        }
        if !removals.isEmpty {
            _ = try await redis.pipeline(removals, replicatedTo: configuration.replication)
        }
    }

    /// Every follower after `cursor`, a chunk at a time: reads the next ``TimelineConfiguration/fanOutReadPages``
    /// pages of followers in one call, queues the job for the followers after them, and only then writes (or removes)
    /// the tweet in their homes, ``TimelineConfiguration/pagesAtOnce`` pages at a time. So the store is read once for
    /// each follower, one chunk after another, while the chunks read so far are written by every worker at once.
    private func fanOutToAll(tweetID: Int64, authorID: Int64, after cursor: Int64?, remove: Bool) async throws {
        if !remove, try await cache.isDeleted(tweetID) {
            return  // deleted meanwhile: the delete's own chunks remove whatever earlier chunks added
        }
        let readLimit = min(
            configuration.fanOutChunkSize * configuration.fanOutReadPages, Int(ListFollowerIDs.limitRange.upperBound))
        let chunk = try await followerPage(of: authorID, after: cursor, limit: readLimit)
        if let next = chunk.nextCursor {
            try await queue([
                FanOutJob(.followerChunk(tweetID: tweetID, authorID: authorID, cursor: next, remove: remove))
            ])
        }
        let pages = stride(from: 0, to: chunk.ids.count, by: configuration.fanOutChunkSize).map {
            Array(chunk.ids[$0..<min($0 + configuration.fanOutChunkSize, chunk.ids.count)])
        }
        try await writeThenUndoIfDeleted {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, page) in pages.enumerated() {
                    if index >= max(1, configuration.pagesAtOnce) {
                        try await group.next()
                    }
                    group.addTask { try await write(tweetID, to: page, remove: remove) }
                }
                try await group.waitForAll()
            }
        } undo: {
            if !remove {
                try await undoIfDeleted(tweetID, followers: chunk.ids)
            }
        }
    }

    /// Runs `writes`, then `undo`, which removes what they wrote of a tweet deleted meanwhile: the second half of a
    /// create that raced a delete. Also when the writes failed part way, before their error is rethrown: a retry
    /// stops at the tombstone, so what they wrote would otherwise stay. When that undo fails too (the node that holds
    /// the tombstone is the one failing), the writes' error is what the caller sees, the failure is counted, and what
    /// stays is removed by the first read that hydrates it (``TimelineReader`` drops and removes deleted ids).
    private func writeThenUndoIfDeleted(
        _ writes: () async throws -> Void, undo: () async throws -> Void
    ) async throws {
        do {
            try await writes()
        } catch {
            do {
                try await undo()
            } catch {
                undoFailures.increment()
            }
            throw error
        }
        try await undo()
    }

    /// Sends `writes` and queues `jobs` (each once, ``FanOutQueue/addOnce(_:)``) in one pipeline, then wakes one of this
    /// instance's idle workers for the jobs.
    private func queue(_ jobs: [FanOutJob], after writes: [RedisCommand] = []) async throws {
        _ = try await redis.pipeline(writes + jobs.map(FanOutQueue.addOnce), replicatedTo: configuration.replication)
        if !jobs.isEmpty {
            wakeUps.signal()
        }
    }

    /// Writes the tweet into the built homes of `followers`, or removes it from their homes.
    private func write(_ tweetID: Int64, to followers: [Int64], remove: Bool) async throws {
        if remove {
            let removals = followers.map { TimelineCommands.remove(tweetID, from: TimelineKeys.home($0)) }
            if !removals.isEmpty {
                _ = try await redis.pipeline(removals, replicatedTo: configuration.replication)
            }
        } else {
            try await TimelineDelivery(redis: redis, configuration: configuration).add(tweetID, to: followers)
        }
    }

    /// The followers after `cursor` down to the edge `until`, a page at a time: a range job, which chunk jobs queued
    /// when they split an author's followers by where their pages begin (before they read them a chunk at a time);
    /// such jobs may still wait in the queue through an upgrade. A range that holds more than a page (follows made
    /// inside it since its bounds were read) goes on in a next job.
    private func fanOut(tweetID: Int64, authorID: Int64, cursor: Int64?, until: Int64, remove: Bool) async throws {
        if !remove, try await cache.isDeleted(tweetID) {
            return  // deleted meanwhile: the delete's own chunks remove whatever earlier chunks added
        }
        let page = try await followerPage(of: authorID, after: cursor, limit: configuration.fanOutChunkSize)
        if let next = page.nextCursor, next > until {
            try await queue([
                FanOutJob(
                    .followerRange(tweetID: tweetID, authorID: authorID, cursor: next, until: until, remove: remove))
            ])
        }
        try await writeThenUndoIfDeleted {
            try await write(tweetID, to: page.ids, remove: remove)
        } undo: {
            if !remove {
                try await undoIfDeleted(tweetID, followers: page.ids)
            }
        }
    }

    /// Removes the tweet from the homes of `followers` if its tombstone exists now: the second half of a fan-out
    /// that raced a delete.
    private func undoIfDeleted(_ tweetID: Int64, followers: [Int64]) async throws {
        if try await cache.isDeleted(tweetID) {
            try await write(tweetID, to: followers, remove: true)
        }
    }

    /// The author's followers after `cursor`, newest edge first, at most `limit` of them.
    private func followerPage(of authorID: Int64, after cursor: Int64?, limit: Int) async throws -> IDList {
        try await tweetService.call(
            ListFollowerIDs.self, PageRequest(userID: authorID, limit: UInt32(limit), cursor: cursor),
            timeout: .seconds(30))
    }
}
