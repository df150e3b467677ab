import RedisCluster
import TimelineService
import Wire

/// The Redis keys the benchmarks fill, read and clean up, named and encoded exactly as the TimelineService's
/// `TimelineKeys` does (that type is internal to its module): homes and profiles are lists of ``TimelineMember``s,
/// newest first; the public timeline is a sorted set of them, all with score 0; per-user keys carry the user id as a
/// hash tag.
enum BenchmarkKeys {
    static let publicTimeline = "tl:public"

    static func home(_ userID: Int64) -> String { "tl:h:{\(userID)}" }

    /// Present while the home timeline is complete; without it a read rebuilds the timeline from the store.
    static func homeBuilt(_ userID: Int64) -> String { "tl:hb:{\(userID)}" }

    static func profile(_ userID: Int64) -> String { "tl:p:{\(userID)}" }

    static func tweet(_ tweetID: Int64) -> String { "tw:{\(tweetID)}" }

    static func member(_ id: Int64) -> [UInt8] { TimelineMember.encode(id) }

    /// A command whose reply is null when the home or profile timeline `key` does not hold `tweetID`.
    static func holding(_ tweetID: Int64, in key: String) -> RedisCommand {
        RedisCommand("LPOS", key: key, member(tweetID))
    }

    /// `count` consecutive made-up user ids from a random base, as the live tests make them: ids from the first
    /// hours of 2026, which no real user or tweet has, so they never name anyone's real timeline.
    static func syntheticUserIDs(count: Int) -> [Int64] {
        let base =
            TweeterID.make(unixMillis: TweeterID.epochMillis + 1, shard: 0, sequence: 0)
            + Int64.random(in: 1...1_000_000_000) * 100_000
        return (1...Int64(count)).map { base + $0 }
    }

    /// Tweet ids as recent tweets have them: the last 30 days, any shard, any sequence number.
    static func recentTweetIDs(count: Int, nowMillis: Int64) -> [Int64] {
        (0..<count).map { _ in
            TweeterID.make(
                unixMillis: nowMillis - Int64.random(in: 0..<(30 * 86_400_000)), shard: Int.random(in: 0..<1024),
                sequence: Int.random(in: 0..<1024)
            )
        }
    }
}

extension RedisClient {
    /// Sends `commands` in pipelines of at most `batchSize`, one after another, and returns every reply in order.
    func pipelined(_ commands: [RedisCommand], batchSize: Int = 5_000) async throws -> [RedisValue] {
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for start in stride(from: 0, to: commands.count, by: batchSize) {
            replies += try await pipeline(Array(commands[start..<min(start + batchSize, commands.count)]))
        }
        return replies
    }

    /// Deletes `keys` with pipelined `DEL`s (never `FLUSHALL`: others use the cluster); returns how many existed.
    @discardableResult
    func deleteKeys(_ keys: [String], batchSize: Int = 5_000) async throws -> Int {
        var deleted = 0
        for start in stride(from: 0, to: keys.count, by: batchSize) {
            let batch = keys[start..<min(start + batchSize, keys.count)].map { RedisCommand("DEL", key: $0) }
            deleted += try await pipeline(batch).reduce(0) { $0 + Int($1.integer ?? 0) }
        }
        return deleted
    }

    /// The master that serves `key`'s hash slot, from `CLUSTER SLOTS`.
    func master(ofKey key: String) async throws -> RedisNodeAddress {
        guard let master = Self.master(ofKey: key, in: try await slotRanges()) else {
            throw BenchmarkFailure("no master serves the slot of \(key)")
        }
        return master
    }

    private static func master(
        ofKey key: String, in ranges: [(slots: ClosedRange<Int64>, nodes: [RedisNodeAddress])]
    ) -> RedisNodeAddress? {
        let slot = Int64(HashSlot(key: key).rawValue)
        return ranges.first { $0.slots.contains(slot) }?.nodes.first
    }

    /// Every node `CLUSTER SLOTS` names, masters and their replicas (the client itself keeps only the masters).
    func allNodes() async throws -> [RedisNodeAddress] {
        var nodes: [RedisNodeAddress] = []
        for node in try await slotRanges().flatMap(\.nodes) where !nodes.contains(node) {
            nodes.append(node)
        }
        return nodes
    }

    /// `CLUSTER SLOTS` as slot ranges, each with the nodes that hold it, its master first.
    private func slotRanges() async throws -> [(slots: ClosedRange<Int64>, nodes: [RedisNodeAddress])] {
        let ranges = try await send(RedisCommand("CLUSTER", "SLOTS")).array ?? []
        return ranges.compactMap { range in
            guard let parts = range.array, parts.count >= 3, let first = parts[0].integer, let last = parts[1].integer,
                first <= last
            else { return nil }
            let nodes = parts.dropFirst(2).compactMap { node -> RedisNodeAddress? in
                guard let fields = node.array, fields.count >= 2, let host = fields[0].string,
                    let port = fields[1].integer
                else { return nil }
                return RedisNodeAddress(host: host, port: Int(port))
            }
            return (first...last, nodes)
        }
    }

    /// A key named `prefix{n}` for the smallest `n` whose slot `node` serves, for tools that talk to one node.
    func key(prefix: String, on node: RedisNodeAddress) async throws -> String {
        let ranges = try await slotRanges()
        for tag in 0..<10_000 {
            let key = "\(prefix){\(tag)}"
            if Self.master(ofKey: key, in: ranges) == node {
                return key
            }
        }
        throw BenchmarkFailure("no key with prefix \(prefix) lands on \(node)")
    }
}
