import Testing

@testable import TimelineService

/// ``FanOutWakeUps``: idle workers back off, and work queued here ends their pause.
@Suite("Fan-out wake-ups")
struct FanOutWakeUpsTests {
    @Test func thePauseDoublesWhileTheQueueStaysEmptyUpToItsLimit() {
        let delays = (1...7).map { FanOutWakeUps.idleDelay(afterEmptyReads: $0) }
        #expect(delays == [20, 40, 80, 160, 160, 160, 160].map { Duration.milliseconds($0) })
        #expect(FanOutWakeUps.idleDelay(afterEmptyReads: 1_000_000) == FanOutWakeUps.maxIdleDelay)
    }

    /// Whether an hour's pause since `seen` ends within 30 s, with `signal` run once the pause began.
    private static func hourLongPauseEnds(
        _ wakeUps: FanOutWakeUps, since seen: UInt64, signal: @escaping @Sendable () -> Void
    ) async throws -> Bool {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await wakeUps.pause(for: .seconds(3_600), since: seen)
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))  // the deadline: the pause did not end
                return false
            }
            signal()
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    @Test func workQueuedHereEndsAPause() async throws {
        let wakeUps = FanOutWakeUps()
        #expect(try await Self.hourLongPauseEnds(wakeUps, since: wakeUps.current) { wakeUps.signal() })
        // Work queued after the worker's read but before its pause began ends the pause at once, too.
        let seen = wakeUps.current
        wakeUps.signal()
        #expect(try await Self.hourLongPauseEnds(wakeUps, since: seen) {})
        // Without work queued, it pauses for the whole delay (a sleep never ends early, so this bound cannot flake).
        let start = ContinuousClock.now
        try await wakeUps.pause(for: .milliseconds(50), since: wakeUps.current)
        #expect(ContinuousClock.now - start >= .milliseconds(50))
    }
}
