import Testing

@testable import TimelineService

@Suite("Fan-out pages split by their bounds")
struct FollowerRangesTests {
    private func range(_ cursor: Int64, _ until: Int64) -> FanOutJob {
        FanOutJob(.followerRange(tweetID: 1, authorID: 2, cursor: cursor, until: until, remove: false))
    }

    @Test func theFirstPageIsDoneByTheSplitterAndEveryOtherIsQueuedWithBothEnds() {
        let split = FollowerRanges(
            tweetID: 1, authorID: 2, after: 1_000, bounds: [900, 800, 700], isComplete: true, remove: false)
        #expect(split.firstUntil == 900)
        #expect(split.queued == [range(900, 800), range(800, 700), range(700, .min)])
    }

    @Test func anAuthorWithOnePageQueuesNothing() {
        let split = FollowerRanges(tweetID: 1, authorID: 2, after: nil, bounds: [], isComplete: true, remove: false)
        #expect(split.firstUntil == .min)
        #expect(split.queued.isEmpty)
    }

    @Test func boundsThatStoppedAtTheirMostLeaveTheRestToAnotherSplitter() {
        let split = FollowerRanges(
            tweetID: 1, authorID: 2, after: nil, bounds: [900, 800], isComplete: false, remove: true)
        #expect(split.firstUntil == 900)
        #expect(
            split.queued == [
                FanOutJob(.followerRange(tweetID: 1, authorID: 2, cursor: 900, until: 800, remove: true)),
                FanOutJob(.followerChunk(tweetID: 1, authorID: 2, cursor: 800, remove: true)),
            ])
    }

    @Test func rangeJobsRoundTripAndTakeTheirOwnQueueMarker() throws {
        let job = range(900, .min)
        #expect(try FanOutJob(payload: job.payload()) == job)
        let chunk = FanOutJob(.followerChunk(tweetID: 1, authorID: 2, cursor: 900, remove: false))
        #expect(FanOutQueue.addOnce(job) != FanOutQueue.addOnce(chunk))
    }
}
