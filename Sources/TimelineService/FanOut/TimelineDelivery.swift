import RedisCluster

/// Writes tweets into per-user timelines, the home timelines of their authors' followers or the authors' profiles:
/// one script call per Redis master for all the timelines it serves, and each timeline written once with all of its
/// tweets (one `LPUSH` when they are all newer than its first entry), instead of a command or three per timeline.
///
/// Homes: only built timelines are written: those whose list exists (its first entry, read to place the tweet, says
/// so), and those without a list but with ``TimelineKeys/homeBuilt(_:)`` (a rebuild found no tweets, or one is
/// running). A follower with neither is idle or new, and the next read rebuilds the timeline from the store, which
/// holds the tweet. (A list outlives its marker only by eviction; the next read rebuilds it over what it holds.)
/// Idle timelines are not kept alive by deliveries: they expire ``TimelineConfiguration/idleTimelineTTL`` after their
/// rebuild or last renewal by a read, however many tweets reach them. A timeline that a delivery creates (a rebuild
/// found no tweets) gets its marker's expiry, never a longer life. Profiles are always written (created if need be),
/// as a tweet's creation always did. A timeline is trimmed back to its capacity once it is
/// ``TimelineConfiguration/homeTrimSlack`` entries over it, not on every insert.
///
/// Every write is idempotent (an insert in place that skips a member already there, ``TimelineScripts``), so a
/// delivery may be retried whole. Owners whose keys a master does not serve (the slot moved, or is moving) are sent
/// again one by one through the slot-routed pipeline, which follows `MOVED` and `ASK`.
public struct TimelineDelivery: Sendable {
    /// The timelines a delivery writes.
    public enum Timelines: Sendable {
        /// Home timelines (a follower's, or the author's own), those that are built.
        case homes
        /// Authors' profiles.
        case profiles
    }

    let redis: RedisClient
    let configuration: TimelineConfiguration
    let timelines: Timelines

    /// A delivery through `redis` to `timelines` (of ``TimelineConfiguration/homeCapacity`` or
    /// ``TimelineConfiguration/profileCapacity``), with its writes confirmed by
    /// ``TimelineConfiguration/replication``.
    public init(redis: RedisClient, configuration: TimelineConfiguration, timelines: Timelines = .homes) {
        self.redis = redis
        self.configuration = configuration
        self.timelines = timelines
    }

    /// One tweet for the timelines of some users, its owners: followers, or the author, whose home or profile gets it.
    public struct Item: Sendable {
        public var tweetID: Int64
        public var owners: [Int64]

        public init(tweetID: Int64, owners: [Int64]) {
            self.tweetID = tweetID
            self.owners = owners
        }
    }

    /// One timeline to write: its owner and its tweets, newest first.
    private struct Delivery {
        let owner: Int64
        let tweetIDs: [Int64]
    }

    /// The script. Arguments: the capacity, the slack, the key prefix of the timelines, the key prefix of their
    /// markers (empty: write every timeline, without a marker), then runs, each the number of members, the members
    /// (newest first), the number of owners and the owners' ids: every owner of a run gets all of its members.
    /// Returns the 1-based positions, among the owners of all runs, of those whose keys this node refused to touch
    /// (the cluster check's error, "Script attempted to access a non local key..."; any other error, a cluster that is
    /// down included, fails the call).
    static let script = """
        #!lua flags=allow-cross-slot-keys
        \(TimelineScripts.insert)
        local capacity = tonumber(ARGV[1])
        local limit = capacity + tonumber(ARGV[2])
        local prefix, markerPrefix = ARGV[3], ARGV[4]
        local marked = markerPrefix ~= ''
        local elsewhere = {}
        local i, position = 5, 0
        while i <= #ARGV do
            local first, last = i + 1, i + tonumber(ARGV[i])
            local count = tonumber(ARGV[last + 1])
            local oldest1, oldest2 = struct.unpack('>I4I4', ARGV[last])
            for j = last + 2, last + 1 + count do
                position = position + 1
                local key = prefix .. ARGV[j] .. '}'
                local head = redis.pcall('LINDEX', key, 0)
                if type(head) == 'table' then
                    if not string.find(head.err, 'non local key', 1, true) then return redis.error_reply(head.err) end
                    elsewhere[#elsewhere + 1] = position
                else
                    local marker = not head and marked and markerPrefix .. ARGV[j] .. '}' or nil
                    if head or not marked or redis.call('EXISTS', marker) == 1 then
                        local size, created = insertMany(key, first, last, capacity, oldest1, oldest2, head)
                        if size and created and marker then
                            local expiry = redis.call('PEXPIRETIME', marker)
                            if expiry > 0 then redis.call('PEXPIREAT', key, expiry) end
                        end
                        if size and size > limit then redis.call('LTRIM', key, 0, capacity - 1) end
                    end
                end
            end
            i = last + 2 + count
        end
        return elsewhere
        """

    private static let redisScript = RedisScript(script)

    /// Adds `tweetID` to the timelines of `owners`.
    /// - Throws: as ``add(_:)``.
    public func add(_ tweetID: Int64, to owners: [Int64]) async throws(RedisError) {
        try await add([Item(tweetID: tweetID, owners: owners)])
    }

    /// Adds each item's tweet to the timelines of its owners: one script call per master for all the items.
    /// - Throws: ``RedisError`` when a master refused the script (`OOM`, `READONLY`, ...), a connection broke, or the
    ///   writes did not reach the replicas that ``TimelineConfiguration/replication`` asks for; some timelines may
    ///   have been written, and a retry writes them again harmlessly.
    public func add(_ items: [Item]) async throws(RedisError) {
        let deliveries = Self.deliveries(of: items)
        guard !deliveries.isEmpty else { return }
        let shares = try await redis.sharesByNode(deliveries) { routingKey(of: $0.owner) }
        var written: [[Delivery]] = []
        var commands: [(RedisNodeAddress, RedisCommand)] = []
        for share in shares {
            let (command, order) = command(for: share.items, declaringKey: false)
            written.append(order)
            commands.append((share.node, command))
        }
        let replies = try await redis.send(commands, replicatedTo: configuration.replication)
        var elsewhere: [Delivery] = []
        for ((node, _), (order, reply)) in zip(commands, zip(written, replies)) {
            if case .error(let text) = reply {
                throw RedisError(RedisError.fromReply(text).code, "\(timelines) delivery on \(node): \(text)")
            }
            elsewhere += (reply.array ?? []).compactMap { position in
                position.integer.flatMap { order.indices.contains(Int($0) - 1) ? order[Int($0) - 1] : nil }
            }
        }
        guard !elsewhere.isEmpty else { return }
        // One call per owner, each declaring its key, so that the pipeline routes it and follows redirects.
        let retried = try await redis.pipeline(
            elsewhere.map { command(for: [$0], declaringKey: true).command }, replicatedTo: configuration.replication)
        if retried.contains(where: { !($0.array ?? []).isEmpty }) {
            throw RedisError.unavailable("\(timelines) delivery: a slot moved again while its owners were sent to it")
        }
    }

    /// Each owner once, with all of its tweets (one tweet: the same array for every owner, no grouping).
    private static func deliveries(of items: [Item]) -> [Delivery] {
        if items.count == 1 {
            let tweetIDs = [items[0].tweetID]
            return items[0].owners.map { Delivery(owner: $0, tweetIDs: tweetIDs) }
        }
        var tweetsByOwner: [Int64: Set<Int64>] = [:]
        for item in items {
            for owner in item.owners {
                tweetsByOwner[owner, default: []].insert(item.tweetID)
            }
        }
        return tweetsByOwner.map { Delivery(owner: $0.key, tweetIDs: $0.value.sorted(by: >)) }
    }

    /// The key that routes an owner's share: the marker of a home (in the home's slot), the profile itself.
    private func routingKey(of owner: Int64) -> String {
        switch timelines {
        case .homes: TimelineKeys.homeBuilt(owner)
        case .profiles: TimelineKeys.profile(owner)
        }
    }

    /// The script call for `deliveries`, with the deliveries in the order the script numbers its owners; with
    /// `declaringKey`, the one delivery's ``routingKey(of:)`` is declared, which routes the call to the slot's owner.
    /// Owners that get the same tweets share a run (a fan-out page: one run of one tweet for all its followers).
    private func command(
        for deliveries: [Delivery], declaringKey: Bool
    ) -> (command: RedisCommand, order: [Delivery]) {
        var runs: [[Delivery]] = []
        var runOfTweets: [[Int64]: Int] = [:]
        for delivery in deliveries {
            // Consecutive deliveries of the same tweets (a fan-out page) skip the lookup.
            if let last = runs.last?.first, last.tweetIDs == delivery.tweetIDs {
                runs[runs.count - 1].append(delivery)
            } else if let index = runOfTweets[delivery.tweetIDs] {
                runs[index].append(delivery)
            } else {
                runOfTweets[delivery.tweetIDs] = runs.count
                runs.append([delivery])
            }
        }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(deliveries.count + 4 + 3 * runs.count)
        switch timelines {
        case .homes:
            arguments += [
                configuration.homeCapacity.redisArgument, configuration.homeTrimSlack.redisArgument,
                TimelineKeys.homePrefix.redisArgument, TimelineKeys.homeBuiltPrefix.redisArgument,
            ]
        case .profiles:
            arguments += [
                configuration.profileCapacity.redisArgument, configuration.homeTrimSlack.redisArgument,
                TimelineKeys.profilePrefix.redisArgument, [],
            ]
        }
        var order: [Delivery] = []
        order.reserveCapacity(deliveries.count)
        for run in runs {
            let tweetIDs = run[0].tweetIDs
            arguments.append(tweetIDs.count.redisArgument)
            arguments += tweetIDs.map(TimelineKeys.member)
            arguments.append(run.count.redisArgument)
            arguments += run.map(\.owner.redisArgument)
            order += run
        }
        let keys = declaringKey ? [Array(routingKey(of: deliveries[0].owner).utf8)] : []
        return (RedisCommand(script: Self.redisScript, keys: keys, arguments: arguments), order)
    }
}
