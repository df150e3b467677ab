import Testing

@testable import TimelineService

/// ``FanOutWakeUps``: idle workers back off, and work queued here ends one worker's pause per signal.
@Suite("Fan-out wake-ups", .timeLimit(.minutes(1)))
struct FanOutWakeUpsTests {
    @Test func thePauseDoublesWhileTheQueueStaysEmptyUpToItsLimit() {
        let delays = (1...7).map { FanOutWakeUps.idleDelay(afterEmptyReads: $0) }
        #expect(delays == [20, 40, 80, 160, 160, 160, 160].map { Duration.milliseconds($0) })
        #expect(FanOutWakeUps.idleDelay(afterEmptyReads: 1_000_000) == FanOutWakeUps.maxIdleDelay)
    }

    /// Whether an hour's pause ends within 30 s, with `signal` run once the pause began.
    private static func hourLongPauseEnds(_ wakeUps: FanOutWakeUps, signal: @escaping @Sendable () -> Void)
        async throws -> Bool
    {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await wakeUps.pause(for: .seconds(3_600))
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
        #expect(try await Self.hourLongPauseEnds(wakeUps) { wakeUps.signal() })
        // Work queued after the worker's read but before its pause began ends the pause at once, too.
        wakeUps.signal()
        #expect(try await Self.hourLongPauseEnds(wakeUps) {})
        // Without work queued, it pauses for the whole delay (a sleep never ends early, so this bound cannot flake).
        let start = ContinuousClock.now
        try await wakeUps.pause(for: .milliseconds(50))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
    }

    /// One delivery is one entry, for one worker: a signal ends one pause, not every pause.
    @Test func aSignalWakesOneWorkerNotAll() async throws {
        let wakeUps = FanOutWakeUps()
        wakeUps.signal()
        #expect(try await Self.hourLongPauseEnds(wakeUps) {})
        // The first pause took the signal: the next one pauses for its whole delay (a sleep never ends early, so this
        // bound cannot flake).
        let start = ContinuousClock.now
        try await wakeUps.pause(for: .milliseconds(50))
        #expect(ContinuousClock.now - start >= .milliseconds(50), "one signal ended one pause")
        // Three workers pausing at once end with three signals, one each.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { try await wakeUps.pause(for: .seconds(3_600)) }
            }
            for _ in 0..<3 {
                wakeUps.signal()
            }
            try await group.waitForAll()
        }
    }

    /// Shutdown cancels the workers: a pause ends at once, before its delay, and takes no signal with it.
    @Test func cancellingAPausingWorkerEndsItsPause() async throws {
        let wakeUps = FanOutWakeUps()
        let pausing = Task { try await wakeUps.pause(for: .seconds(3_600)) }
        // Cancelled once its pause has begun (the suite's time limit bounds this wait).
        while wakeUps.pausingCount == 0 {
            await Task.yield()
        }
        pausing.cancel()
        await #expect(throws: CancellationError.self) { try await pausing.value }
        // A task cancelled before its pause begins does not pause at all.
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await wakeUps.pause(for: .seconds(3_600))
        }
        await #expect(throws: CancellationError.self) { try await cancelledFirst.value }
        // The signal after them is kept for the next pause: the cancelled ones were no longer pausing.
        wakeUps.signal()
        #expect(try await Self.hourLongPauseEnds(wakeUps) {})
    }

    /// Signals given while every worker is busy wait for them, up to a bound.
    @Test func signalsWaitForBusyWorkersUpToABound() async throws {
        let wakeUps = FanOutWakeUps()
        for _ in 0..<(FanOutWakeUps.maxWaitingSignals + 5) {
            wakeUps.signal()
        }
        for _ in 0..<FanOutWakeUps.maxWaitingSignals {
            #expect(try await Self.hourLongPauseEnds(wakeUps) {})
        }
        let start = ContinuousClock.now
        try await wakeUps.pause(for: .milliseconds(50))
        #expect(ContinuousClock.now - start >= .milliseconds(50), "the signals past the bound were not kept")
    }
}
