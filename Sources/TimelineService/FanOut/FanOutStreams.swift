import RedisCluster

/// Where the fan-out queue lives: several Redis streams, each hash-tagged into its own part of the slot space, so
/// that the queue is spread over every master (no single hot key, no single point of failure) and every
/// TimelineService instance reads from all of them.
///
/// Stream `i` of `n` has a tag whose slot falls in `[i * 16384 / n, (i + 1) * 16384 / n)`, so on a cluster whose
/// masters own equal contiguous slot ranges (as `redis-cli --cluster create` makes them) each master holds its share
/// of the streams. A master that is lost stops only the jobs in its streams until its replica takes over.
public enum FanOutStreams {
    /// The consumer group every stream has.
    public static let group = "fanout-workers"

    /// The stream keys, in order.
    public static let keys: [String] = keys(count: 8)

    /// `count` stream keys spread evenly over the slot space.
    static func keys(count: Int) -> [String] {
        HashSlot.spreadTags(prefix: "fq", count: count).map { "fanout:{\($0)}" }
    }

    /// The stream a job is queued on: spread by a hash of the job's identity, so that consecutive entries, and the
    /// chunks of one tweet's fan-out, land on different streams (and masters). Order between jobs does not matter: every job is
    /// idempotent, and creates and deletes are correct in any order.
    static func key(for job: FanOutJob) -> String {
        let spread: UInt64 =
            switch job.work {
            case .events(let events):
                // Hashed: the first ids of consecutive entries are a delivery's length apart, and taken modulo the
                // stream count they would fall on a few streams only.
                mixed(UInt64(bitPattern: events.first?.id ?? 0))
            case .followerChunk(let tweetID, _, let cursor, _), .followerRange(let tweetID, _, let cursor, _, _):
                mixed(UInt64(bitPattern: tweetID) ^ UInt64(bitPattern: cursor ?? 0))
            }
        return keys[Int(spread % UInt64(keys.count))]
    }

    /// A 64-bit finaliser (SplitMix64's), so that ids differing only in high or low bits spread over all streams.
    private static func mixed(_ value: UInt64) -> UInt64 {
        var x = value &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }
}
