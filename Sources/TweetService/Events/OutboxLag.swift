import Synchronization

/// How long the oldest write that woke the relay has waited for its shard to be delivered: per shard, the time of
/// the first wake-up since the shard was last found drained.
///
/// A wake-up is cleared only by a claim that began after it and found the shard drained, once everything that claim
/// took was delivered; a drain that fails keeps it, so the lag goes on growing while the events wait in the outbox.
/// Memory is bounded by the number of shards.
final class OutboxLag: Sendable {
    private let oldest = Mutex<[Int: ContinuousClock.Instant]>([:])

    /// A write put events in `shard`'s outbox and woke the relay.
    func woken(_ shard: Int, at instant: ContinuousClock.Instant = .now) {
        oldest.withLock { oldest in
            if oldest[shard] == nil {
                oldest[shard] = instant
            }
        }
    }

    /// A claim that began at `claimedAt` found `shard` drained, and what it took is delivered.
    func drained(_ shard: Int, claimedAt: ContinuousClock.Instant) {
        oldest.withLock { oldest in
            if let woken = oldest[shard], woken <= claimedAt {
                oldest[shard] = nil
            }
        }
    }

    /// How long the oldest wake-up not yet drained has waited; zero when every one was drained.
    var lag: Duration {
        guard let woken = oldest.withLock({ $0.values.min() }) else { return .zero }
        return .now - woken
    }
}
