import Synchronization

/// Lets this instance's idle fan-out workers sleep longer without answering later: they back off while the queue
/// stays empty (fewer empty reads of every stream, which idle instances otherwise make hundreds of times a second),
/// and one of them goes back to work as soon as this instance queues work (a delivery of events).
///
/// Each ``signal()`` wakes one pausing worker, not all of them: a delivery is one queue entry, which one worker takes,
/// and waking every worker for it made the others read every stream for nothing (about one `XREADGROUP` per created
/// tweet under load). A worker that found work signals once more, so work that queued more (a large fan-out's pages)
/// draws in one more worker per read that finds some, and every worker within a few reads.
///
/// Work queued by another instance waits at most the longest back-off (``maxIdleDelay``) before an idle worker here
/// reads it; the instance that queued it has woken one of its own workers already.
final class FanOutWakeUps: Sendable {
    /// The first idle pause, doubled after each empty read up to ``maxIdleDelay``.
    static let firstIdleDelay: Duration = .milliseconds(20)
    static let maxIdleDelay: Duration = .milliseconds(160)
    /// How often a pausing worker looks whether it was woken (a lock, not a Redis command).
    static let checkInterval: Duration = .milliseconds(10)
    /// The most signals kept for workers that are busy when they come: an instance has a few workers, and signals past
    /// them would only cause empty reads later.
    static let maxWaitingSignals = 16

    /// Signals no worker has taken yet.
    private let waitingSignals = Mutex(0)

    /// Work was queued here: one pausing worker (or the next to pause) goes back to reading at once.
    func signal() {
        waitingSignals.withLock { $0 = min($0 + 1, Self.maxWaitingSignals) }
    }

    /// The pause after `emptyReads` empty reads in a row (at least 1).
    static func idleDelay(afterEmptyReads emptyReads: Int) -> Duration {
        let doublings = min(max(0, emptyReads - 1), 8)
        return min(firstIdleDelay * (1 << doublings), maxIdleDelay)
    }

    /// Pauses for `delay`, or less when it takes a signal (one given before the pause began counts too: work queued
    /// while this worker was reading is not missed).
    func pause(for delay: Duration) async throws {
        let end = ContinuousClock.now + delay
        while !takeSignal(), ContinuousClock.now < end {
            try await Task.sleep(for: min(Self.checkInterval, end - ContinuousClock.now))
        }
    }

    private func takeSignal() -> Bool {
        waitingSignals.withLock { waiting in
            guard waiting > 0 else { return false }
            waiting -= 1
            return true
        }
    }
}
