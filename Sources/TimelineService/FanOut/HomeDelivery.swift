import RedisCluster

/// Writes tweets into the home timelines of their authors' followers: one script call per Redis master for all the
/// timelines it serves, instead of three commands per follower and tweet.
///
/// Only built timelines are written (those with ``TimelineKeys/homeBuilt(_:)``, complete or being rebuilt): a
/// follower without one is idle or new, and the next read rebuilds the timeline from the store, which holds the tweet.
/// A timeline is trimmed back to its capacity once it is ``TimelineConfiguration/homeTrimSlack`` entries over it, not
/// on every insert. Idle timelines are not kept alive by deliveries: they expire
/// ``TimelineConfiguration/idleTimelineTTL`` after their rebuild or last renewal by a read, however many tweets reach
/// them. A timeline that a
/// delivery creates (a rebuild found no tweets) gets its marker's expiry, never a longer life.
///
/// Every write is idempotent (a set add), so a delivery may be retried whole. Followers whose keys a master does not
/// serve (the slot moved, or is moving) are sent again one by one through the slot-routed pipeline, which follows
/// `MOVED` and `ASK`.
public struct HomeDelivery: Sendable {
    let redis: RedisClient
    let configuration: TimelineConfiguration

    /// A delivery through `redis`, to timelines of ``TimelineConfiguration/homeCapacity``, with its writes confirmed
    /// by ``TimelineConfiguration/replication``.
    public init(redis: RedisClient, configuration: TimelineConfiguration) {
        self.redis = redis
        self.configuration = configuration
    }

    /// One tweet for some of its author's followers.
    public struct Item: Sendable {
        public var tweetID: Int64
        public var followers: [Int64]

        public init(tweetID: Int64, followers: [Int64]) {
            self.tweetID = tweetID
            self.followers = followers
        }
    }

    /// One home timeline to write: the follower and the tweet.
    private struct Entry {
        let follower: Int64
        let tweetID: Int64
    }

    /// The script. Arguments: the capacity, the slack, the two key prefixes, then runs of entries, each the member,
    /// how many followers follow, and the follower ids. Returns the 1-based positions, among all the entries, of those
    /// whose keys this node refused to touch.
    static let script = """
        #!lua flags=allow-cross-slot-keys
        local capacity = tonumber(ARGV[1])
        local limit = capacity + tonumber(ARGV[2])
        local homePrefix, builtPrefix = ARGV[3], ARGV[4]
        local elsewhere = {}
        local i, position = 5, 0
        while i <= #ARGV do
            local member, count = ARGV[i], tonumber(ARGV[i + 1])
            for j = i + 2, i + 1 + count do
                position = position + 1
                local marker = builtPrefix .. ARGV[j] .. '}'
                local built = redis.pcall('EXISTS', marker)
                if type(built) == 'table' then
                    elsewhere[#elsewhere + 1] = position
                elseif built == 1 then
                    local home = homePrefix .. ARGV[j] .. '}'
                    redis.call('ZADD', home, 0, member)
                    local size = redis.call('ZCARD', home)
                    local expiry = size == 1 and redis.call('PEXPIRETIME', marker) or -1
                    if expiry > 0 then
                        redis.call('PEXPIREAT', home, expiry)
                    elseif size > limit then
                        redis.call('ZREMRANGEBYRANK', home, capacity, -1)
                    end
                end
            end
            i = i + 2 + count
        end
        return elsewhere
        """

    /// Adds `tweetID` to the built home timelines of `followers`.
    /// - Throws: as ``add(_:)``.
    public func add(_ tweetID: Int64, to followers: [Int64]) async throws(RedisError) {
        try await add([Item(tweetID: tweetID, followers: followers)])
    }

    /// Adds each item's tweet to the built home timelines of its followers: one script call per master for all the
    /// items.
    /// - Throws: ``RedisError`` when a master refused the script (`OOM`, `READONLY`, ...), a connection broke, or the
    ///   writes did not reach the replicas that ``TimelineConfiguration/replication`` asks for; some timelines may
    ///   have been written, and a retry writes them again harmlessly.
    public func add(_ items: [Item]) async throws(RedisError) {
        let entries = items.flatMap { item in item.followers.map { Entry(follower: $0, tweetID: item.tweetID) } }
        guard !entries.isEmpty else { return }
        let shares = try await redis.sharesByNode(entries) { TimelineKeys.homeBuilt($0.follower) }
        let replies = try await redis.send(
            shares.map { ($0.node, command(for: $0.items, declaringKey: false)) },
            replicatedTo: configuration.replication
        )
        var elsewhere: [Entry] = []
        for (share, reply) in zip(shares, replies) {
            if case .error(let text) = reply {
                throw RedisError(RedisError.fromReply(text).code, "home delivery on \(share.node): \(text)")
            }
            elsewhere += (reply.array ?? []).compactMap { position in
                position.integer.flatMap { share.items.indices.contains(Int($0) - 1) ? share.items[Int($0) - 1] : nil }
            }
        }
        guard !elsewhere.isEmpty else { return }
        // One call per entry, each declaring its key, so that the pipeline routes it and follows redirects.
        let retried = try await redis.pipeline(
            elsewhere.map { command(for: [$0], declaringKey: true) }, replicatedTo: configuration.replication)
        if retried.contains(where: { !($0.array ?? []).isEmpty }) {
            throw RedisError.unavailable("home delivery: a slot moved again while its followers were sent to it")
        }
    }

    /// The script call for `entries`; with `declaringKey`, the one entry's marker key is declared, which routes the
    /// call to the slot's owner.
    private func command(for entries: [Entry], declaringKey: Bool) -> RedisCommand {
        var arguments: [[UInt8]] = [Array("EVAL".utf8), Array(Self.script.utf8)]
        arguments.reserveCapacity(entries.count + 16)
        if declaringKey {
            arguments += [Array("1".utf8), Array(TimelineKeys.homeBuilt(entries[0].follower).utf8)]
        } else {
            arguments.append(Array("0".utf8))
        }
        arguments += [
            configuration.homeCapacity.redisArgument, configuration.homeTrimSlack.redisArgument,
            TimelineKeys.homePrefix.redisArgument, TimelineKeys.homeBuiltPrefix.redisArgument,
        ]
        // Runs of entries of the same tweet (a share keeps the order of the items): the member once per run.
        var start = entries.startIndex
        while start < entries.endIndex {
            let tweetID = entries[start].tweetID
            let end = entries[start...].firstIndex { $0.tweetID != tweetID } ?? entries.endIndex
            arguments += [TimelineKeys.member(tweetID), (end - start).redisArgument]
            arguments += entries[start..<end].map(\.follower.redisArgument)
            start = end
        }
        return RedisCommand(arguments: arguments, keyPositions: declaringKey ? [3] : [])
    }
}
