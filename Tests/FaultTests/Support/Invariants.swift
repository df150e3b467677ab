/// What must hold once a fault is healed, checked against PostgreSQL (the truth), Redis and the public API:
///
/// - every outbox is empty and the fan-out queue (its eight streams) is drained;
/// - each user's followers, following and tweets counters equal their rows, and both copies of every follow between
///   the test's users agree;
/// - every user's home timeline (first page of ``homeLimit``, as that user) is exactly the newest of their own and
///   their followees' stored tweets, and their profile is exactly their stored tweets, newest first;
/// - the public timeline holds every live tweet of the test's users and none of the deleted ones;
/// - a deleted tweet is 404 and in no sorted set in Redis (public, its author's profile, any user's home);
/// - the homes of synthetic followers (which cannot sign in) hold the tweets they must, read in Redis.
///
/// Timelines are read in pages of ``pageLimit`` (see ``pageLimit`` for why not 200).
///
/// Every test builds one with its users and what it deleted, then waits with ``waitUntilHeld(within:api:)``.
struct Invariants {
    let store: TruthStore
    let redis: RedisProbe
    /// The test's users, who can sign in.
    var users: [Account] = []
    /// Deleted tweets, with their authors.
    var deleted: [Int64: Int64] = [:]
    /// Users known only to PostgreSQL and Redis, and a tweet each one's home must hold.
    var syntheticHomes: [Int64: Int64] = [:]
    /// How many of the newest tweets a home timeline is compared on: its first page.
    var homeLimit = 50
    /// The page size for profiles and the public timeline: 50, since a page of 200 tweets of 8 KiB is larger than a
    /// Wire frame and fails (see `heavyTweetsPostedWhileNoTimelineServiceRunsAllShowOnceTheyAreBack`).
    var pageLimit = 50

    /// Polls every invariant until all hold or `timeout` passes.
    /// - Throws: ``FaultFailure`` naming every invariant still broken at the deadline and the ids that broke it.
    func waitUntilHeld(within timeout: Duration = .seconds(60), api: TweeterAPI) async throws {
        var last: [String] = []
        let held = try await poll(within: timeout, every: .milliseconds(500)) {
            do {
                last = try await violations(api: api)
            } catch {
                last = ["the check itself failed (PostgreSQL or Redis not answering yet?): \(error)"]
            }
            return last.isEmpty
        }
        guard held else {
            throw FaultFailure(
                "invariants broken \(timeout) after healing:\n" + last.map { "  - \($0)" }.joined(separator: "\n"))
        }
    }

    /// Every broken invariant, described; empty when all hold. The views are compared only once the outboxes and the
    /// queue are drained, and Redis is read before the API (whose reads remove hidden ids from the sorted sets they
    /// read), so that what a late event wrote cannot be cleaned up by the check itself before it is seen.
    func violations(api: TweeterAPI) async throws -> [String] {
        let pipeline = try await pipelineViolations()
        guard pipeline.isEmpty else { return pipeline }
        var found = try await redisViolations()
        let truth = try await StoredState.read(users: users.map(\.id), store: store)
        found += truth.graphViolations(users: users.map(\.id))
        for id in deleted.keys where truth.tweetIDs.contains(id) {
            found.append("deleted tweet \(id) is still in PostgreSQL")
        }
        found += await apiViolations(truth: truth, api: api)
        return found
    }

    /// Outboxes empty, fan-out queue drained.
    private func pipelineViolations() async throws -> [String] {
        var found: [String] = []
        let outboxes = try await store.nonEmptyOutboxes()
        if !outboxes.isEmpty {
            let shards = outboxes.sorted { $0.key < $1.key }.prefix(10).map { "shard \($0.key): \($0.value) rows" }
            found.append("outboxes not empty (\(outboxes.count) shards): \(shards.joined(separator: ", "))")
        }
        let (length, pending) = try await redis.fanOutBacklog()
        if length != 0 || pending != 0 {
            found.append("fan-out queue not drained: XLEN \(length), XPENDING \(pending)")
        }
        return found
    }

    /// Deleted tweets in no timeline; synthetic homes holding their tweets.
    private func redisViolations() async throws -> [String] {
        var found: [String] = []
        for (tweet, author) in deleted.sorted(by: { $0.key < $1.key }) {
            var keys = ["tl:public", "tl:p:{\(author)}"] + users.map { "tl:h:{\($0.id)}" }
            keys += syntheticHomes.keys.sorted().prefix(20).map { "tl:h:{\($0)}" }
            for key in keys where try await redis.timeline(key, holds: tweet) {
                found.append("deleted tweet \(tweet) is still in \(key)")
            }
        }
        var missing: [Int64] = []
        for (follower, tweet) in syntheticHomes.sorted(by: { $0.key < $1.key })
        where !(try await redis.timeline("tl:h:{\(follower)}", holds: tweet)) {
            missing.append(follower)
        }
        if !missing.isEmpty {
            found.append(
                "\(missing.count) of \(syntheticHomes.count) synthetic followers' homes lack their tweet: "
                    + missing.prefix(10).map(String.init).joined(separator: ", "))
        }
        return found
    }

    /// The API's views against the truth. A failed request is a violation too (it may be transient; the poll retries).
    private func apiViolations(truth: StoredState, api: TweeterAPI) async -> [String] {
        var found: [String] = []
        do {
            for id in deleted.keys.sorted() {
                let status = try await api.call(.GET, "/api/v1/tweets/\(id)").status
                if status != 404 { found.append("GET /api/v1/tweets/\(id) of a deleted tweet answered \(status)") }
            }
            for user in users {
                let profile = try await api.allPages("/api/v1/users/\(user.id)/tweets?limit=\(pageLimit)")
                let stored = truth.tweets[user.id] ?? []
                if profile != stored {
                    found.append("profile of \(user.username) (\(user.id)): " + difference(profile, stored))
                }
                let expected = truth.home(of: user.id, limit: homeLimit)
                let home = try await api.page("/api/v1/timelines/home?limit=\(homeLimit)", as: user).ids
                if home != expected {
                    found.append("home of \(user.username) (\(user.id)): " + difference(home, expected))
                }
            }
            let live = users.flatMap { truth.tweets[$0.id] ?? [] }
            guard let oldest = (live + deleted.keys).min() else { return found }
            let shown = Set(
                try await api.allPages("/api/v1/timelines/public?limit=\(pageLimit)&since_id=\(oldest - 1)"))
            let absent = live.filter { !shown.contains($0) }
            if !absent.isEmpty {
                found.append("public timeline lacks \(absent.count) live tweets: \(list(absent))")
            }
            let resurrected = deleted.keys.filter(shown.contains)
            if !resurrected.isEmpty { found.append("public timeline shows deleted tweets: \(list(resurrected))") }
        } catch {
            found.append("the API failed: \(error)")
        }
        return found
    }

    private func difference(_ shown: [Int64], _ expected: [Int64]) -> String {
        let extra = shown.filter { !expected.contains($0) }
        let missing = expected.filter { !shown.contains($0) }
        return "shows \(shown.count), expected \(expected.count); missing \(list(missing)); unexpected \(list(extra))"
            + (extra.isEmpty && missing.isEmpty ? "; order differs" : "")
    }

    private func list(_ ids: [Int64]) -> String {
        "[" + ids.prefix(10).map(String.init).joined(separator: ", ") + (ids.count > 10 ? ", …" : "") + "]"
    }
}
