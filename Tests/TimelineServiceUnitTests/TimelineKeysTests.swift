import Testing
import Wire

@testable import RedisCluster
@testable import TimelineService

@Suite("Timeline keys and members")
struct TimelineKeysTests {
    @Test func membersSortNewestFirstEvenWhenOnlyLowBitsDiffer() {
        // A year after the epoch ids are past 2^53, where doubles stop being exact.
        let base = TweeterID.make(unixMillis: TweeterID.epochMillis + 365 * 86_400_000, shard: 77, sequence: 0)
        let ids = (0..<1024).map { base | Int64($0) } + [base + (1 << 23), Int64.max, 1]
        let byBytes = ids.shuffled().sorted {
            TimelineKeys.member($0).lexicographicallyPrecedes(TimelineKeys.member($1))
        }
        #expect(byBytes == ids.sorted(by: >))
        // Doubles cannot tell these apart: the reason members, not scores, carry the id.
        #expect(Double(base | 1) == Double(base | 2))
    }

    @Test func memberRoundTrips() {
        for id in [
            Int64(1), 42, Int64.max, TweeterID.make(unixMillis: TweeterID.epochMillis + 5, shard: 1023, sequence: 1023),
        ] {
            #expect(TimelineKeys.id(fromMember: TimelineKeys.member(id)) == id)
        }
        #expect(TimelineKeys.id(fromMember: [1, 2, 3]) == nil)
    }

    @Test func userKeysShareASlot() {
        #expect(HashSlot(key: TimelineKeys.home(123)) == HashSlot(key: TimelineKeys.homeBuilt(123)))
        #expect(HashSlot(key: TimelineKeys.home(123)) == HashSlot(key: TimelineKeys.profile(123)))
    }

    @Test func fanOutJobsRoundTrip() throws {
        let jobs = [
            FanOutJob(.followerChunk(tweetID: 5, authorID: 6, cursor: 7, remove: true)),
            FanOutJob(.followerChunk(tweetID: 5, authorID: 6, cursor: nil, remove: false)),
            FanOutJob(.events([Self.follow, Self.unfollow])),
        ]
        for job in jobs {
            #expect(try FanOutJob(payload: job.payload()) == job)
        }
    }

    static let follow = TimelineEvent(id: 1, shard: 2, change: .followed(FollowEdge(followerID: 3, followeeID: 4)))
    static let unfollow = TimelineEvent(id: 2, shard: 2, change: .unfollowed(FollowEdge(followerID: 3, followeeID: 4)))

    /// Entries queued before a delivery became one entry hold one event each (kind 1); they may still wait in the
    /// queue after an upgrade.
    @Test func aSingleEventEntryOfEarlierVersionsDecodesAsADeliveryOfOne() throws {
        var writer = WireWriter()
        writer.write(1 as UInt8)
        writer.write(Self.follow)
        #expect(try FanOutJob(payload: writer.buffer) == FanOutJob(.events([Self.follow])))
    }

    @Test func aDeliveryIsQueuedInEntriesOfAtMostTheBoundInOrder() {
        let events = (0..<130).map {
            TimelineEvent(id: Int64($0), shard: 1, change: .followed(FollowEdge(followerID: 3, followeeID: 4)))
        }
        let entries = FanOutJob.entries(queuing: events)
        #expect(entries.count == 3)
        #expect(entries.flatMap(\.parts) == events.map { FanOutJob(.events([$0])) }, "every event once, in order")
        #expect(FanOutJob.entries(queuing: []).isEmpty)
        // Consecutive entries' first ids are the bound apart: hashed, they still spread over the streams.
        #expect(Set(entries.map(FanOutStreams.key(for:))).count > 1)
    }

    @Test func aDeliveryIsAppliedAsOnePartPerEventAndAChunkAsItself() {
        let chunk = FanOutJob(.followerChunk(tweetID: 5, authorID: 6, cursor: nil, remove: false))
        #expect(chunk.parts == [chunk])
        #expect(
            FanOutJob(.events([Self.follow, Self.unfollow])).parts == [
                FanOutJob(.events([Self.follow])), FanOutJob(.events([Self.unfollow])),
            ])
    }
}
