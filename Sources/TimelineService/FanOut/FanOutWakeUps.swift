import Synchronization

/// Lets this instance's idle fan-out workers sleep longer without answering later: they back off while the queue
/// stays empty (fewer empty reads of every stream, which idle instances otherwise make hundreds of times a second),
/// and go back to work as soon as this instance queues work (a delivery of events, or a job that queued more).
///
/// Work queued by another instance waits at most the longest back-off (``maxIdleDelay``) before an idle worker here
/// reads it; the instance that queued it has woken its own workers already.
final class FanOutWakeUps: Sendable {
    /// The first idle pause, doubled after each empty read up to ``maxIdleDelay``.
    static let firstIdleDelay: Duration = .milliseconds(20)
    static let maxIdleDelay: Duration = .milliseconds(160)
    /// How often a pausing worker looks whether it was woken (a lock, not a Redis command).
    static let checkInterval: Duration = .milliseconds(10)

    private let generation = Mutex<UInt64>(0)

    /// Counts work queued; a worker compares it with the value it saw before its read.
    var current: UInt64 { generation.withLock { $0 } }

    /// Work was queued here: pausing workers go back to reading at once.
    func signal() {
        generation.withLock { $0 &+= 1 }
    }

    /// The pause after `emptyReads` empty reads in a row (at least 1).
    static func idleDelay(afterEmptyReads emptyReads: Int) -> Duration {
        let doublings = min(max(0, emptyReads - 1), 8)
        return min(firstIdleDelay * (1 << doublings), maxIdleDelay)
    }

    /// Pauses for `delay`, or less when work is queued here after `seen` was read from ``current``.
    func pause(for delay: Duration, since seen: UInt64) async throws {
        let end = ContinuousClock.now + delay
        while current == seen, ContinuousClock.now < end {
            try await Task.sleep(for: min(Self.checkInterval, end - ContinuousClock.now))
        }
    }
}
