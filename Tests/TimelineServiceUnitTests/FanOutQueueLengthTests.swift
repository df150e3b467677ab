import Testing

@testable import TimelineService

/// ``FanOutQueueLength``: the queue's length as last read plus what this instance queued since, used for its
/// ``FanOutQueueLength/maxAge`` only.
@Suite("Fan-out queue length")
struct FanOutQueueLengthTests {
    @Test func nothingIsEstimatedBeforeTheFirstReading() {
        let length = FanOutQueueLength()
        #expect(length.estimate() == nil)
        length.add(5)
        #expect(length.estimate() == nil, "entries queued before any reading do not make one")
    }

    @Test func aReadingCountsWhatThisInstanceQueuedSinceUntilItIsTooOld() {
        let length = FanOutQueueLength(maxAge: .milliseconds(100))
        let readAt = ContinuousClock.now
        length.record(40, readAt: readAt)
        length.add(3)
        length.add(2)
        #expect(length.estimate(at: readAt + .milliseconds(99)) == 45)
        #expect(length.estimate(at: readAt + .milliseconds(100)) == nil, "read again once it is as old as maxAge")
        length.record(7, readAt: readAt + .milliseconds(100))
        #expect(length.estimate(at: readAt + .milliseconds(150)) == 7, "a new reading replaces the old one")
    }
}
