import Testing
import Wire

@testable import TweetService

@Suite("Ids and shard routing")
struct TweeterIDTests {
    @Test func partsRoundTrip() {
        let id = TweeterID.make(unixMillis: TweeterID.epochMillis + 123_456_789, shard: 1023, sequence: 517)
        #expect(TweeterID.shard(of: id) == 1023)
        #expect(TweeterID.unixMillis(of: id) == TweeterID.epochMillis + 123_456_789)
        #expect(id & 0x3FF == 517)
    }

    @Test func idsSortByTimeBeforeShardAndSequence() {
        let earlier = TweeterID.make(unixMillis: TweeterID.epochMillis + 1000, shard: 8191, sequence: 1023)
        let later = TweeterID.make(unixMillis: TweeterID.epochMillis + 1001, shard: 0, sequence: 0)
        #expect(earlier < later)
    }

    @Test func idsStayPositiveForDecades() {
        let in2059 = TweeterID.make(
            unixMillis: TweeterID.epochMillis + 33 * 365 * 86_400_000, shard: 8191, sequence: 1023)
        #expect(in2059 > 0)
    }

    @Test func shardMapSplitsContiguously() {
        let map = ShardMap(logicalShards: 1024, servers: 2)
        #expect(map.server(ofShard: 0) == 0 && map.server(ofShard: 511) == 0)
        #expect(map.server(ofShard: 512) == 1 && map.server(ofShard: 1023) == 1)
        #expect(ShardMap.schema(ofShard: 42) == "shard_0042")
    }

    @Test func foreignIdsRouteNowhere() {
        let map = ShardMap(logicalShards: 1024, servers: 2)
        #expect(map.shard(ofID: TweeterID.make(unixMillis: TweeterID.epochMillis, shard: 5000, sequence: 0)) == nil)
        #expect(map.shard(ofID: -5) == nil)
        #expect(map.group([TweeterID.make(unixMillis: TweeterID.epochMillis, shard: 4000, sequence: 1)]).isEmpty)
    }

    @Test func usernameShardIgnoresCase() {
        let map = ShardMap(logicalShards: 1024, servers: 2)
        #expect(map.shard(ofUsername: "Alice_01") == map.shard(ofUsername: "alice_01"))
        let shards = Set((0..<2000).map { map.shard(ofUsername: "user\($0)") })
        #expect(shards.count > 800, "usernames spread over the shards")
    }

    @Test func defaultScryptCostMeetsOWASP() {
        let configuration = PasswordHasher.Configuration()
        #expect(configuration.logN >= 17 && configuration.r >= 8 && configuration.p >= 1)
    }
}
