import RedisCluster

/// Where deletes are announced to the instances' in-process tweet caches (``LocalTweetCache``): several Redis streams,
/// spread over the slot space like the fan-out queue (``HashSlot/spreadTags(prefix:count:)``), each holding every
/// delete. A read asks, in a pipeline it sends anyway, for the newest entry of the stream on the node of the timeline
/// it reads, and reads on from where this instance last was only when that entry is new.
///
/// Each stream is trimmed to about ``retainedEntries``; an instance that fell further behind, or that finds its last
/// entry gone (a stream lost with its node, or deleted), forgets every tweet it holds instead of guessing.
enum DeletionLog {
    /// The streams, in order.
    static let keys: [String] = HashSlot.spreadTags(prefix: "dl", count: 8).map { "tl:deleted:{\($0)}" }

    /// About how many entries each stream keeps (`XADD … MAXLEN ~`).
    static let retainedEntries = 10_000

    /// Entries a catching-up read asks for at most; further behind than that, the instance forgets everything.
    static let maxCatchUp = 1_000

    /// The stream on the node of `key`'s slot when the cluster's masters own equal contiguous slot ranges (and on
    /// some node otherwise: any stream holds every delete, so the choice costs at most a round trip, never a miss).
    static func index(near key: String) -> Int {
        Int(HashSlot(key: key).rawValue) * keys.count / HashSlot.count
    }

    /// Announces the deletes of `tweetIDs` on every stream: one entry each, the ids in decimal, comma-separated.
    static func appendCommands(_ tweetIDs: [Int64]) -> [RedisCommand] {
        guard !tweetIDs.isEmpty else { return [] }
        let ids = tweetIDs.map(String.init).joined(separator: ",")
        return keys.map { RedisCommand("XADD", key: $0, "MAXLEN", "~", retainedEntries, "*", "ids", ids) }
    }

    /// The newest entry of stream `index` (`XREVRANGE … COUNT 1`).
    static func probe(_ index: Int) -> RedisCommand {
        RedisCommand("XREVRANGE", key: keys[index], "+", "-", "COUNT", 1)
    }

    /// The entries of stream `index` from `entryID` on, itself included (from the first when `nil`), at most one more
    /// than ``maxCatchUp``.
    static func entries(_ index: Int, from entryID: StreamEntryID?) -> RedisCommand {
        RedisCommand("XRANGE", key: keys[index], entryID?.description ?? "-", "+", "COUNT", maxCatchUp + 1)
    }

    /// The id of the newest entry in a ``probe(_:)``'s reply; `nil` for an empty (or missing) stream.
    /// - Throws: ``RedisError`` for an error reply or a reply of another shape.
    static func newestID(in reply: RedisValue) throws(RedisError) -> StreamEntryID? {
        try parse(reply).first?.id
    }

    /// The entries of an `XRANGE`/`XREVRANGE` reply: each id and the tweet ids it announces.
    static func parse(_ reply: RedisValue) throws(RedisError) -> [(id: StreamEntryID, tweetIDs: [Int64])] {
        if case .error(let text) = reply { throw RedisError.fromReply(text) }
        guard let entries = reply.array else { throw RedisError.protocolError("deletion log: not an array") }
        var parsed: [(id: StreamEntryID, tweetIDs: [Int64])] = []
        for entry in entries {
            guard let parts = entry.array, parts.count == 2, let id = parts[0].string.flatMap(StreamEntryID.init),
                let fields = parts[1].array
            else { throw RedisError.protocolError("deletion log: an entry of another shape") }
            var tweetIDs: [Int64] = []
            for index in stride(from: 0, to: fields.count - 1, by: 2) where fields[index].string == "ids" {
                tweetIDs += (fields[index + 1].string ?? "").split(separator: ",").compactMap { Int64($0) }
            }
            parsed.append((id, tweetIDs))
        }
        return parsed
    }
}

/// A Redis stream entry id, `milliseconds-sequence`, ordered as Redis orders them.
struct StreamEntryID: Sendable, Hashable, Comparable, CustomStringConvertible {
    let milliseconds: UInt64
    let sequence: UInt64

    init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let milliseconds = UInt64(parts[0]), let sequence = UInt64(parts[1]) else {
            return nil
        }
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    var description: String { "\(milliseconds)-\(sequence)" }

    static func < (left: StreamEntryID, right: StreamEntryID) -> Bool {
        (left.milliseconds, left.sequence) < (right.milliseconds, right.sequence)
    }
}
