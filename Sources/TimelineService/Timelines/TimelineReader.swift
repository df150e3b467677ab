import Foundation
import Metrics
import RedisCluster
import Wire

/// Reads timelines: ids from a sorted set, tweets from the cache (misses from the TweetService), pages by exclusive
/// `max_id` / `since_id` bounds. A home timeline that Redis lost, or that expired while its owner was idle, is
/// rebuilt from the store on the next read instead of being shown empty.
struct TimelineReader: Sendable {
    let redis: RedisClient
    let tweetService: WireClient
    let cache: TweetCache
    let configuration: TimelineConfiguration
    /// Home rebuilds in flight, shared by every read of this instance.
    let rebuilds: RebuildFlights
    /// Home renewals in flight, shared by every read of this instance.
    let renewals: RenewalGate
    private let renewalsFailed = Counter(label: "timeline_home_renewals_failed_total")

    func publicTimeline(_ query: TimelineQuery) async throws -> TweetPage {
        try await page([TimelineKeys.publicTimeline], query, log: nil)
    }

    /// A page of the user's home timeline. A built timeline with no followed celebrity takes two round trips: the
    /// marker, its lifetime and the page's ids in one pipeline, then the cached tweets. Once a day (see
    /// ``TimelineConfiguration/homeRenewalAge``) a read also renews the timeline's lifetime.
    func home(_ query: TimelineQuery) async throws -> TweetPage {
        let userID = query.userID
        let home = TimelineKeys.home(userID)
        var commands = [
            RedisCommand("GET", key: TimelineKeys.homeBuilt(userID)),
            RedisCommand("PTTL", key: TimelineKeys.homeBuilt(userID)),
            rangeCommand(home, query),
        ]
        let hybrid = configuration.celebrityThreshold != nil
        if hybrid {
            commands += [
                RedisCommand("SCARD", key: TimelineKeys.celebrities),
                RedisCommand("GET", key: TimelineKeys.followedCelebrities(userID)),
            ]
        }
        let log = DeletionLog.index(near: home)
        commands.append(DeletionLog.probe(log))
        // One pipeline: the user's keys share a slot; the celebrity set and the deletion log may sit on other nodes,
        // asked in parallel.
        let replies = try await redis.pipeline(commands)
        // The ids read beside the marker stand unless the timeline had to be rebuilt first.
        var known = [home: replies[2]]
        if replies[0].string != TimelineKeys.homeIsBuilt {
            try await rebuilds.run(for: userID) { try await rebuildHome(of: userID) }
            known = [:]
        } else if let left = replies[1].integer, left >= 0,
            left < (configuration.idleTimelineTTL - configuration.homeRenewalAge).milliseconds
        {
            await renewHome(of: userID)
        }
        var celebrities: [Int64] = []
        if hybrid, replies[3].integer ?? 0 > 0 {
            if let cached = replies[4].bytes {
                celebrities = TimelineKeys.ids(fromMembers: cached)
            } else {
                celebrities = try await followedCelebrities(of: userID)
            }
        }
        return try await page(
            [home] + celebrities.map(TimelineKeys.profile), query, known: known, log: (log, replies[replies.count - 1]))
    }

    /// The celebrities (see ``TimelineConfiguration/celebrityThreshold``) that `userID` follows, whose tweets are
    /// merged in at read time; asked of the store and the celebrity set, then cached (follow events drop the cache).
    private func followedCelebrities(of userID: Int64) async throws -> [Int64] {
        let following = try await followingIDs(of: userID)
        var celebrities: [Int64] = []
        if !following.isEmpty {
            let arguments =
                [Array("SMISMEMBER".utf8), Array(TimelineKeys.celebrities.utf8)] + following.map(\.redisArgument)
            let membership = try await redis.send(RedisCommand(arguments: arguments, keyPositions: [1]))
            let flags: [RedisValue] = membership.array ?? []
            celebrities = zip(following, flags).compactMap { id, flag in flag.integer == 1 ? id : nil }
        }
        _ = try await redis.send(
            RedisCommand(
                "SET", key: TimelineKeys.followedCelebrities(userID), celebrities.flatMap(TimelineKeys.member), "EX",
                configuration.followedCelebritiesTTL.redisSeconds
            )
        )
        return celebrities
    }

    private func followingIDs(of userID: Int64) async throws -> [Int64] {
        var ids: [Int64] = []
        var cursor: Int64?
        repeat {
            let page = try await tweetService.call(
                ListFollowingIDs.self,
                PageRequest(userID: userID, limit: ListFollowingIDs.limitRange.upperBound, cursor: cursor)
            )
            ids += page.ids
            cursor = page.nextCursor
        } while cursor != nil
        return ids
    }

    /// Writes the newest tweets of the user and everyone they follow into their home timeline, then marks it built.
    func rebuildHome(of userID: Int64) async throws {
        // The user's follows first: the fan-out reads only the followers whose follows say their home may exist.
        let until = try await markFollows(of: userID, timeout: .seconds(30))
        // Marked before the store is read: fan-out delivers to marked timelines only, and so reaches this one with
        // every tweet committed after the read below (see ``TimelineDelivery``).
        _ = try await redis.send(
            RedisCommand("SET", key: TimelineKeys.homeBuilt(userID), TimelineKeys.homeIsBuilding, "PXAT", until, "NX"))
        let authors = [userID] + (try await followingIDs(of: userID))
        // Asked in chunks of authors that list_recent_tweets takes; each chunk's newest merged into the newest so far.
        var recent: [TweetRecord] = []
        for start in stride(from: 0, to: authors.count, by: ListRecentTweets.maxAuthorIDs) {
            let chunk = Array(authors[start..<min(start + ListRecentTweets.maxAuthorIDs, authors.count)])
            let merged = recent + (try await newestTweets(of: chunk))
            recent = Array(merged.sorted { $0.id > $1.id }.prefix(configuration.homeCapacity))
        }
        let home = TimelineKeys.home(userID)
        var commands =
            cache.storeCommands(recent)
            + TimelineCommands.add(
                recent.map(\.id), to: home, capacity: configuration.homeCapacity,
                trimSlack: configuration.homeTrimSlack)
        commands += [
            RedisCommand("PEXPIREAT", key: home, until),
            RedisCommand("SET", key: TimelineKeys.homeBuilt(userID), TimelineKeys.homeIsBuilt, "PXAT", until),
        ]
        _ = try await redis.pipeline(commands)
    }

    /// Keeps a built home timeline for ``TimelineConfiguration/idleTimelineTTL`` more, its follows marked first;
    /// never shortens it. Skipped when ``renewals`` says so (one in flight for the user, or a recent failure). A
    /// failure is counted and leaves the lifetime it had, which its follows' marks still cover; a later read tries
    /// again.
    private func renewHome(of userID: Int64) async {
        guard renewals.tryStart(userID) else { return }
        do {
            let until = try await markFollows(of: userID, timeout: .seconds(1))
            _ = try await redis.pipeline([
                RedisCommand("PEXPIREAT", key: TimelineKeys.homeBuilt(userID), until, "GT"),
                RedisCommand("PEXPIREAT", key: TimelineKeys.home(userID), until, "GT"),
            ])
            renewals.finish(userID, succeeded: true)
        } catch {
            renewals.finish(userID, succeeded: false)
            renewalsFailed.increment()
        }
    }

    /// Marks the user's follows as reaching a home timeline that lives ``TimelineConfiguration/idleTimelineTTL`` from
    /// now (``ExtendHomeLifetime``, with its clock margin), and returns that instant in Unix milliseconds: the expiry
    /// to give the timeline and its marker, never later. A renewal waits at most a second (its read waits for it); a
    /// rebuild, which reads the store anyway, as long as its other calls.
    private func markFollows(of userID: Int64, timeout: Duration) async throws -> Int64 {
        let until = Int64(Date().timeIntervalSince1970 * 1000) + configuration.idleTimelineTTL.milliseconds
        let marked = HomeLifetime(userID: userID, untilUnixMillis: until + ExtendHomeLifetime.clockMargin.milliseconds)
        _ = try await tweetService.call(ExtendHomeLifetime.self, marked, timeout: timeout)
        return until
    }

    /// The newest ``TimelineConfiguration/homeCapacity`` tweets of `authors`, in answers cut to the tweet-list budget:
    /// heavy tweets take several calls, each below the last.
    private func newestTweets(of authors: [Int64]) async throws -> [TweetRecord] {
        var recent: [TweetRecord] = []
        while recent.count < configuration.homeCapacity {
            let wanted = min(configuration.homeCapacity - recent.count, Int(ListRecentTweets.limitRange.upperBound))
            let query = RecentTweetsQuery(authorIDs: authors, limit: UInt32(wanted), maxID: recent.last?.id)
            let more = try await tweetService.call(ListRecentTweets.self, query, timeout: .seconds(30)).tweets
            recent += more
            if more.count < wanted, !TweetListBudget.mayHaveBeenCut(more) {
                break  // all there are
            }
        }
        return recent
    }

    /// The ids of one timeline inside the query's bounds, newest first, one more than asked.
    private func rangeCommand(_ key: String, _ query: TimelineQuery) -> RedisCommand {
        TimelineCommands.newestFirst(key, maxID: query.maxID, sinceID: query.sinceID, limit: Int(query.limit) + 1)
    }

    /// Reads one more id than asked from each timeline, merges them newest first without repeats, and hydrates the
    /// page; the extra id tells whether an older page exists inside the window.
    /// The limit is bounded by the read methods' ``ReadHomeTimeline/checkBounds(_:)``.
    /// - Parameters:
    ///   - known: replies to ``rangeCommand(_:_:)`` already read for some of `keys`.
    ///   - log: the deletion log's stream and its probe's reply, when the read asked already; otherwise it is asked
    ///     here, beside the ranges (``TweetCache/hydrate(_:log:)``).
    private func page(
        _ keys: [String], _ query: TimelineQuery, known: [String: RedisValue] = [:],
        log: (index: Int, probe: RedisValue)?
    ) async throws -> TweetPage {
        let unread = keys.filter { known[$0] == nil }
        let logIndex = log?.index ?? DeletionLog.index(near: keys[0])
        let probe = log == nil ? [DeletionLog.probe(logIndex)] : []
        var read = try await redis.pipeline(unread.map { rangeCommand($0, query) } + probe)
        let logReply = log?.probe ?? read.removeLast()
        let replies = Array(known.values) + read
        let merged = Set(
            replies.flatMap { ($0.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) } })
        let ids = merged.sorted(by: >).prefix(Int(query.limit) + 1)
        let pageIDs = Array(ids.prefix(Int(query.limit)))
        let hydration = try await cache.hydrate(pageIDs, log: (logIndex, logReply))
        if !hydration.deleted.isEmpty {
            // Left behind by a create that raced its delete, or by a rebuild that read the store before the delete.
            _ = try await redis.pipeline(
                keys.flatMap { key in hydration.deleted.map { TimelineCommands.remove($0, from: key) } })
        }
        // Within the answer budget: a page of heavy tweets is cut, and continues after its last tweet.
        let fitting = TweetListBudget.fittingCount(of: hydration.tweets)
        if fitting < hydration.tweets.count {
            return TweetPage(
                tweets: Array(hydration.tweets.prefix(fitting)), nextMaxID: hydration.tweets[fitting - 1].id)
        }
        return TweetPage(tweets: hydration.tweets, nextMaxID: ids.count > pageIDs.count ? pageIDs.last : nil)
    }
}
