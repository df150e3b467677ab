/// How a timeline's sorted set names a tweet: the id with every bit inverted, as 8 big-endian bytes, with score 0.
///
/// Redis orders equal-score members by their bytes, so for positive ids the newest tweet (the largest id) is the first
/// member, and `ZRANGEBYLEX` pages newest first by exclusive bounds exactly. (A score is a double and cannot hold a
/// 63-bit id: ids differing in their low bits would tie or misorder.) Eight-byte members with a constant score keep a
/// full home timeline in Redis's compact listpack encoding, and the inversion puts a new tweet, nearly always the
/// newest, at the listpack's front, where an insert stops at once instead of walking every member (7 µs against 23 µs
/// at 800 entries; docs/performance.md).
///
/// Public so that the benchmarks and the fault tests, which read Redis directly, encode members as the service does.
public enum TimelineMember {
    /// The member for a tweet id.
    public static func encode(_ id: Int64) -> [UInt8] {
        withUnsafeBytes(of: (~UInt64(bitPattern: id)).bigEndian) { Array($0) }
    }

    /// The id in a member; `nil` for anything that is not 8 bytes.
    public static func decode(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count == 8 else { return nil }
        return Int64(bitPattern: ~bytes.reduce(0) { $0 << 8 | UInt64($1) })
    }
}
