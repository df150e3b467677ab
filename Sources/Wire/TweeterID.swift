/// The layout of every user, tweet and relationship id: time, then logical shard, then a per-shard sequence.
///
/// ```
///  63  62 ............ 23 22 ...... 10 9 ..... 0
///   0  milliseconds since  logical      sequence
///      2026-01-01 (40 bits) shard (13)  (10 bits)
/// ```
/// Ids are made inside PostgreSQL by each shard's `next_id()`, so any number of TweetService instances can create
/// rows without coordinating. They sort by creation time (to the millisecond), stay positive in a `bigint` until
/// 2060, and name their shard, so any id routes with no lookup.
public enum TweeterID {
    /// 2026-01-01T00:00:00Z in Unix milliseconds.
    public static let epochMillis: Int64 = 1_767_225_600_000
    public static let shardBits = 13
    public static let sequenceBits = 10
    /// The most logical shards the layout can name.
    public static let maxShards = 1 << shardBits

    /// The logical shard that owns the row with this id.
    public static func shard(of id: Int64) -> Int {
        Int((id >> sequenceBits) & Int64(maxShards - 1))
    }

    /// When the id was made, in Unix milliseconds.
    public static func unixMillis(of id: Int64) -> Int64 {
        (id >> (shardBits + sequenceBits)) + epochMillis
    }

    /// An id with the given parts; PostgreSQL's `next_id()` computes the same.
    public static func make(unixMillis: Int64, shard: Int, sequence: Int) -> Int64 {
        ((unixMillis - epochMillis) << (shardBits + sequenceBits)) | (Int64(shard) << sequenceBits)
            | Int64(sequence & ((1 << sequenceBits) - 1))
    }
}
