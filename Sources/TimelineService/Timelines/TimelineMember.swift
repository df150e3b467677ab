/// How a timeline names a tweet: the id with every bit inverted, as 8 big-endian bytes.
///
/// For positive ids the newest tweet (the largest id) has the smallest bytes: the first entry of a home or profile
/// list (``TimelineScripts`` keeps them in this order) and, in the public timeline's sorted set (every score 0, so
/// ordered by bytes), the first member, which `ZRANGEBYLEX` pages newest first by exclusive bounds exactly. (A score
/// is a double and cannot hold a 63-bit id: ids differing in their low bits would tie or misorder.)
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
