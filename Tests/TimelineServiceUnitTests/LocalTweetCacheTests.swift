import NIOCore
import Testing
import Wire

@testable import RedisCluster
@testable import TimelineService

/// ``LocalTweetCache`` and the ``DeletionLog`` it learns deletes from, without Redis.
@Suite("In-process tweet cache")
struct LocalTweetCacheTests {
    private static func tweet(_ id: Int64) -> TweetRecord {
        TweetRecord(id: id, userID: 1, username: "u", text: "t\(id)", createdAtMillis: 0, inReplyToID: nil)
    }

    private static func entryID(_ text: String) -> StreamEntryID {
        StreamEntryID(text)!
    }

    @Test func aTweetFetchedBeforeAnEvictionIsNotStoredAfterIt() {
        let cache = LocalTweetCache(capacity: 10, logs: 1)
        let (_, generation) = cache.lookup([1])
        // Meanwhile another read applies a delete of tweet 1 announced in the log.
        cache.apply(log: 0, to: .at(Self.entryID("5-0")), deleted: [1], forgetAll: false)
        cache.insert([Self.tweet(1)], ifGeneration: generation)
        #expect(cache.lookup([1]).found.isEmpty, "the late fill of a deleted tweet was refused")
        let (_, current) = cache.lookup([1])
        cache.insert([Self.tweet(2)], ifGeneration: current)
        #expect(cache.lookup([2]).found[2]?.text == "t2")
    }

    @Test func theOldestStoredLeavesFirstAndTheCapacityHolds() {
        let cache = LocalTweetCache(capacity: 3, logs: 1)
        for id in Int64(1)...5 {
            cache.insert([Self.tweet(id)], ifGeneration: cache.lookup([]).generation)
        }
        #expect(cache.count == 3)
        #expect(cache.lookup([1, 2, 3, 4, 5]).found.keys.sorted() == [3, 4, 5])
        #expect(LocalTweetCache(capacity: 0, logs: 1).lookup([]).found.isEmpty)
    }

    @Test func thePositionNeverMovesBackAndForgettingDropsEverything() {
        let cache = LocalTweetCache(capacity: 10, logs: 2)
        #expect(cache.position(0) == .unknown)
        cache.apply(log: 0, to: .at(Self.entryID("9-1")), deleted: [], forgetAll: false)
        // A slower read that caught up only to an older entry evicts what it found but leaves the position.
        cache.insert([Self.tweet(7)], ifGeneration: cache.lookup([]).generation)
        cache.apply(log: 0, to: .at(Self.entryID("9-0")), deleted: [7], forgetAll: false)
        #expect(cache.position(0) == .at(Self.entryID("9-1")))
        #expect(cache.lookup([7]).found.isEmpty)
        #expect(cache.position(1) == .unknown, "each stream has its own position")
        cache.insert([Self.tweet(8)], ifGeneration: cache.lookup([]).generation)
        cache.apply(log: 1, to: .empty, deleted: [], forgetAll: true)
        #expect(cache.count == 0)
        #expect(cache.position(1) == .empty)
    }

    @Test func logEntriesAreReadAndOrderedAsRedisOrdersThem() throws {
        let reply = RedisValue.array([
            .array([
                .bulkString(ByteBuffer(string: "1700000000000-3")),
                .array([.bulkString(ByteBuffer(string: "ids")), .bulkString(ByteBuffer(string: "11,12"))]),
            ])
        ])
        let entries = try DeletionLog.parse(reply)
        #expect(entries.map(\.id) == [Self.entryID("1700000000000-3")])
        #expect(entries.map(\.tweetIDs) == [[11, 12]])
        #expect(try DeletionLog.newestID(in: .array([])) == nil)
        #expect(throws: RedisError.self) { try DeletionLog.parse(.error("WRONGTYPE no")) }
        #expect(Self.entryID("10-0") > Self.entryID("9-99"))
        #expect(Self.entryID("9-10") > Self.entryID("9-9"))
        #expect(StreamEntryID("9") == nil)
        let commands = DeletionLog.appendCommands([11, 12])
        #expect(commands.count == DeletionLog.keys.count, "every stream holds every delete")
    }

    @Test func theStreamsAreSpreadOverTheSlotSpaceAndAKeyFindsTheOneBesideIt() {
        for (index, key) in DeletionLog.keys.enumerated() {
            #expect(DeletionLog.index(near: key) == index)
        }
        #expect(FanOutStreams.keys.count == 8)
        #expect(FanOutStreams.keys[0].hasPrefix("fanout:{fq0."), "the queue's keys are unchanged")
    }
}
