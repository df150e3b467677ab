import Synchronization

/// The fan-out queue's length as this instance last read it, plus the entries it queued since: what
/// ``FanOutQueue/enqueue(_:after:)`` holds against ``TimelineConfiguration/maxQueueLength``, so that a delivery does not
/// ask every stream its length first (eight `XLEN`s and a round trip before every `XADD`).
///
/// The reading is used for ``maxAge`` and then taken again. Entries that workers finished since only make the
/// estimate high (a delivery refused a little early, and sent again by the relay); entries that other instances queued
/// since are missed until the next reading, so the bound may be passed by what the other instances queue in
/// ``maxAge``.
final class FanOutQueueLength: Sendable {
    /// How long a reading is used.
    static let defaultMaxAge: Duration = .milliseconds(100)

    private struct Reading {
        var length: Int64
        var readAt: ContinuousClock.Instant
    }

    let maxAge: Duration
    private let reading = Mutex<Reading?>(nil)

    init(maxAge: Duration = FanOutQueueLength.defaultMaxAge) {
        self.maxAge = maxAge
    }

    /// The estimated length at `now`, or `nil` when the queue must be read (never read, or the reading is too old).
    func estimate(at now: ContinuousClock.Instant = .now) -> Int64? {
        reading.withLock { reading in
            guard let current = reading, now - current.readAt < maxAge else { return nil }
            return current.length
        }
    }

    /// The queue held `length` entries at `readAt`.
    func record(_ length: Int64, readAt: ContinuousClock.Instant) {
        reading.withLock { $0 = Reading(length: length, readAt: readAt) }
    }

    /// This instance queued `count` entries.
    func add(_ count: Int) {
        reading.withLock { $0?.length += Int64(count) }
    }
}
