import Wire

/// Which physical PostgreSQL server holds each logical shard.
///
/// Logical shards are many (1024 by default) and each is a schema, `shard_0042`, so moving one to another server is
/// a copy of one schema and a change to this map (``ShardMover``); ids never change. By default the shards are split
/// into contiguous, equal ranges over the servers.
public struct ShardMap: Sendable, Hashable {
    /// `serverOfShard[s]` is the index of the server holding logical shard `s`.
    public let serverOfShard: [Int]
    public let serverCount: Int

    public var logicalShardCount: Int { serverOfShard.count }

    /// Equal contiguous ranges of `logicalShards` over `servers` servers.
    public init(logicalShards: Int = 1024, servers: Int) {
        precondition(
            logicalShards > 0 && logicalShards <= TweeterID.maxShards,
            "logical shards must be 1...\(TweeterID.maxShards)")
        precondition(servers > 0, "at least one server")
        self.serverCount = servers
        self.serverOfShard = (0..<logicalShards).map { $0 * servers / logicalShards }
    }

    /// An explicit assignment, as after moving shards.
    public init(serverOfShard: [Int], servers: Int) {
        precondition(serverOfShard.allSatisfy { (0..<servers).contains($0) }, "every shard needs a server")
        self.serverOfShard = serverOfShard
        self.serverCount = servers
    }

    /// The logical shard of an id from outside, or `nil` when the id names a shard this map does not have (a forged
    /// or foreign id), so that bad input can never index past the map.
    public func shard(ofID id: Int64) -> Int? {
        let shard = TweeterID.shard(of: id)
        return id > 0 && shard < logicalShardCount ? shard : nil
    }

    public func server(ofShard shard: Int) -> Int {
        serverOfShard[shard]
    }

    /// The shards on one server, in ascending order.
    public func shards(onServer server: Int) -> [Int] {
        serverOfShard.indices.filter { serverOfShard[$0] == server }
    }

    /// The schema that holds a logical shard. Built from an integer, never from input.
    public static func schema(ofShard shard: Int) -> String {
        let digits = String(shard)
        return "shard_" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The shard that holds a username's user: a stable hash of its lowercased form, so that a lookup by name goes to
    /// one shard and a name is unique by one shard's index.
    public func shard(ofUsername username: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across processes and releases
        for byte in username.lowercased().utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(logicalShardCount))
    }

    /// Groups ids by the shard that owns them, keeping each group's order; ids of no shard here are dropped.
    public func group(_ ids: [Int64]) -> [Int: [Int64]] {
        Dictionary(grouping: ids.filter { shard(ofID: $0) != nil }, by: TweeterID.shard(of:))
    }
}
