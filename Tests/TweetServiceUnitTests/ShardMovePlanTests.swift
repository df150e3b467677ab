import Testing

@testable import TweetService

@Suite("Rebalancing plans")
struct ShardMovePlanTests {
    @Test func aNewServerGetsTheHighestShardsOfTheFullestServersUntilTheyDifferByOne() {
        // 8 shards on two servers (4 and 4) and an empty third.
        let map = ShardMap(serverOfShard: [0, 0, 0, 0, 1, 1, 1, 1], servers: 3)
        let plan = ShardMovePlan(map: map)
        #expect(
            plan.moves == [
                ShardMovePlan.Move(shard: 3, source: 0, target: 2),
                ShardMovePlan.Move(shard: 7, source: 1, target: 2),
            ])
    }

    @Test func anEvenMapNeedsNoMoves() {
        #expect(ShardMovePlan(map: ShardMap(logicalShards: 1024, servers: 4)).moves.isEmpty)
        #expect(ShardMovePlan(map: ShardMap(serverOfShard: [0, 1, 0], servers: 2)).moves.isEmpty)
    }

    @Test func everyServerEndsWithinOneShardOfEveryOther() {
        let map = ShardMap(logicalShards: 1024, servers: 3)
        let plan = ShardMovePlan(map: map)
        var serverOfShard = map.serverOfShard
        for move in plan.moves {
            #expect(serverOfShard[move.shard] == move.source, "each move takes a shard from where it is")
            serverOfShard[move.shard] = move.target
        }
        let counts = (0..<3).map { server in serverOfShard.filter { $0 == server }.count }
        #expect(counts.max()! - counts.min()! <= 1)
        #expect(plan.moves.isEmpty, "1024 over 3 in equal ranges is already even: \(counts)")
    }

    @Test func twoNewServersAreFilledFromFour() {
        var serverOfShard = ShardMap(logicalShards: 1024, servers: 4).serverOfShard
        let plan = ShardMovePlan(map: ShardMap(serverOfShard: serverOfShard, servers: 6))
        for move in plan.moves {
            serverOfShard[move.shard] = move.target
        }
        let counts = (0..<6).map { server in serverOfShard.filter { $0 == server }.count }
        #expect(counts.max()! - counts.min()! <= 1, "\(counts)")
        // 1024 over 6 is 170 or 171 each: the fewest moves give each new server 170, and no shard moves twice.
        #expect(plan.moves.count == 2 * 170)
        #expect(Set(plan.moves.map(\.shard)).count == plan.moves.count)
    }
}
