import Testing

@testable import TimelineService

/// ``RenewalGate``: one renewal per user at a time, a bounded number in all, and a pause after a failure.
@Suite("Home renewal gate")
struct RenewalGateTests {
    @Test func aUserIsRenewedOnceAtATimeAndAgainOnceTheRenewalFinished() {
        let gate = RenewalGate(limit: 10)
        #expect(gate.tryStart(1))
        #expect(!gate.tryStart(1), "a second read of the user skips the renewal in flight")
        #expect(gate.tryStart(2), "another user is not held up")
        gate.finish(1, succeeded: true)
        #expect(gate.tryStart(1))
    }

    @Test func noMoreThanTheLimitRunAtOnce() {
        let gate = RenewalGate(limit: 2)
        #expect(gate.tryStart(1) && gate.tryStart(2))
        #expect(!gate.tryStart(3))
        gate.finish(2, succeeded: true)
        #expect(gate.tryStart(3))
    }

    @Test func aFailurePausesEveryRenewalForItsPause() {
        let gate = RenewalGate(limit: 10, pauseAfterFailure: .seconds(5))
        let start = ContinuousClock.now
        #expect(gate.tryStart(1, at: start))
        gate.finish(1, succeeded: false, at: start)
        #expect(!gate.tryStart(2, at: start + .seconds(4)), "paused after the failure")
        #expect(gate.tryStart(2, at: start + .seconds(5)), "the pause is over")
        gate.finish(2, succeeded: true, at: start + .seconds(5))
        #expect(gate.tryStart(1, at: start + .seconds(6)))
    }
}
