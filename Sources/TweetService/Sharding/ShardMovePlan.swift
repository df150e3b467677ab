/// The moves that even out a shard map: each takes the highest-numbered shard of the server holding the most to the
/// server holding the fewest (lowest number first on ties), until no two servers differ by more than one shard.
public struct ShardMovePlan: Sendable, Hashable {
    public struct Move: Sendable, Hashable {
        public let shard: Int
        public let source: Int
        public let target: Int
    }

    public let moves: [Move]

    public init(map: ShardMap) {
        var shardsOf = (0..<map.serverCount).map { map.shards(onServer: $0) }
        var moves: [Move] = []
        while let fullest = shardsOf.indices.max(by: { shardsOf[$0].count < shardsOf[$1].count }),
            let emptiest = shardsOf.indices.min(by: { shardsOf[$0].count < shardsOf[$1].count }),
            shardsOf[fullest].count - shardsOf[emptiest].count > 1
        {
            let shard = shardsOf[fullest].removeLast()
            shardsOf[emptiest].insert(shard, at: 0)
            moves.append(Move(shard: shard, source: fullest, target: emptiest))
        }
        self.moves = moves
    }
}
