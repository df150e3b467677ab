/// Writes one tweet into the home timelines of many followers: one script call per Redis master for all the
/// followers whose timelines it serves, instead of three commands per follower.
///
/// Only built timelines are written (those with ``TimelineKeys/homeBuilt(_:)``, complete or being rebuilt): a
/// follower without one is idle or new, and the next read rebuilds the timeline from the store, which holds the tweet.
/// A timeline is trimmed back to its capacity once it is ``TimelineConfiguration/homeTrimSlack`` entries over it, not
/// on every insert. Idle timelines are not kept alive by deliveries: they expire after
/// ``TimelineConfiguration/idleTimelineTTL`` without a read, however many tweets reach them.
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

    /// The script. Arguments: the member, the capacity, the slack, the two key prefixes, then the follower ids.
    /// Returns the 1-based positions, among the ids, of followers whose keys this node refused to touch.
    static let script = """
        #!lua flags=allow-cross-slot-keys
        local member, capacity = ARGV[1], tonumber(ARGV[2])
        local limit = capacity + tonumber(ARGV[3])
        local homePrefix, builtPrefix = ARGV[4], ARGV[5]
        local elsewhere = {}
        for i = 6, #ARGV do
            local built = redis.pcall('EXISTS', builtPrefix .. ARGV[i] .. '}')
            if type(built) == 'table' then
                elsewhere[#elsewhere + 1] = i - 5
            elseif built == 1 then
                local home = homePrefix .. ARGV[i] .. '}'
                redis.call('ZADD', home, 0, member)
                if redis.call('ZCARD', home) > limit then
                    redis.call('ZREMRANGEBYRANK', home, 0, -capacity - 1)
                end
            end
        end
        return elsewhere
        """

    /// Adds `tweetID` to the built home timelines of `followers`.
    /// - Throws: ``RedisError`` when a master refused the script (`OOM`, `READONLY`, ...), a connection broke, or the
    ///   writes did not reach the replicas that ``TimelineConfiguration/replication`` asks for; some timelines may
    ///   have been written, and a retry writes them again harmlessly.
    public func add(_ tweetID: Int64, to followers: [Int64]) async throws(RedisError) {
        guard !followers.isEmpty else { return }
        let shares = try await redis.sharesByNode(followers, key: TimelineKeys.homeBuilt)
        let replies = try await redis.send(
            shares.map { ($0.node, command(tweetID, for: $0.items, declaringKey: false)) },
            replicatedTo: configuration.replication
        )
        var elsewhere: [Int64] = []
        for (share, reply) in zip(shares, replies) {
            if case .error(let text) = reply {
                throw RedisError(RedisError.fromReply(text).code, "home delivery on \(share.node): \(text)")
            }
            elsewhere += (reply.array ?? []).compactMap { position in
                position.integer.flatMap { share.items.indices.contains(Int($0) - 1) ? share.items[Int($0) - 1] : nil }
            }
        }
        guard !elsewhere.isEmpty else { return }
        // One call per follower, each declaring its key, so that the pipeline routes it and follows redirects.
        let retried = try await redis.pipeline(
            elsewhere.map { command(tweetID, for: [$0], declaringKey: true) }, replicatedTo: configuration.replication)
        if retried.contains(where: { !($0.array ?? []).isEmpty }) {
            throw RedisError.unavailable("home delivery: a slot moved again while its followers were sent to it")
        }
    }

    /// The script call for `followers`; with `declaringKey`, the one follower's marker key is declared, which routes
    /// the call to the slot's owner.
    private func command(_ tweetID: Int64, for followers: [Int64], declaringKey: Bool) -> RedisCommand {
        var arguments: [[UInt8]] = [Array("EVAL".utf8), Array(Self.script.utf8)]
        arguments.reserveCapacity(followers.count + 9)
        if declaringKey {
            arguments += [Array("1".utf8), Array(TimelineKeys.homeBuilt(followers[0]).utf8)]
        } else {
            arguments.append(Array("0".utf8))
        }
        arguments += [
            TimelineKeys.member(tweetID), configuration.homeCapacity.redisArgument,
            configuration.homeTrimSlack.redisArgument, TimelineKeys.homePrefix.redisArgument,
            TimelineKeys.homeBuiltPrefix.redisArgument,
        ]
        arguments += followers.map(\.redisArgument)
        return RedisCommand(arguments: arguments, keyPositions: declaringKey ? [3] : [])
    }
}
