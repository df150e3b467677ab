import Synchronization

/// Which home renewals (``TimelineReader``) may start: one per user at a time, a bounded number in all, and none for a
/// while after one failed.
///
/// A renewal is a chance taken by a read, not a duty: a home whose renewal is skipped keeps the lifetime it had (up to
/// 13 days left once a renewal is due), and a later read tries again. So where a rebuild makes readers wait
/// for it (``RebuildFlights``), a renewal that cannot start now is simply not done: concurrent reads of one user
/// renew once, and reads while the TweetService cannot mark follows do not each ask it again.
final class RenewalGate: Sendable {
    /// Users whose homes may be renewed at once.
    let limit: Int
    /// How long no renewal starts after one failed.
    let pauseAfterFailure: Duration
    private let state = Mutex<(running: Set<Int64>, pausedUntil: ContinuousClock.Instant?)>(([], nil))

    init(limit: Int, pauseAfterFailure: Duration = .seconds(5)) {
        self.limit = limit
        self.pauseAfterFailure = pauseAfterFailure
    }

    /// Whether a renewal of `userID` may start at `now`; if it may, it counts as running until
    /// ``finish(_:succeeded:at:)``.
    func tryStart(_ userID: Int64, at now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            if let pausedUntil = state.pausedUntil, now < pausedUntil { return false }
            guard state.running.count < limit else { return false }
            return state.running.insert(userID).inserted
        }
    }

    /// Ends a renewal that ``tryStart(_:at:)`` let start; a failure pauses every renewal for ``pauseAfterFailure``.
    func finish(_ userID: Int64, succeeded: Bool, at now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.running.remove(userID)
            if !succeeded {
                state.pausedUntil = now + pauseAfterFailure
            }
        }
    }
}
