/// What is known of one server's replica, and the routing decision it gives: the pure half of ``ReplicaReads``.
struct ReplicaHealth: Sendable, Hashable {
    /// Why a lag-tolerant read went to the primary; the reason is a metric label.
    enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The server has no replica.
        case none
        /// No measurement within ``ReplicaReads/Configuration/maxMeasurementAge`` (the monitor cannot reach the
        /// replica or its primary, or has not measured yet), or the primary's position for the read's fence could
        /// not be read.
        case unmeasured
        /// The last measurement, or a read since it, failed to reach the replica.
        case down
        /// Measured lag over the bound, or behind the whole sampled history.
        case lagging
        /// Chosen, but it had not replayed the primary's position of the read's start within the catch-up wait.
        case behind
        /// Chosen, but the read on it failed; it was answered by the primary at once.
        case failed
    }

    /// Where one read goes.
    enum Route: Sendable, Hashable {
        case replica
        case primary(Reason)
    }

    /// When the monitor last measured the replica successfully, and the lag it found (`nil`: behind the history).
    private(set) var measuredAt: ContinuousClock.Instant?
    private(set) var lag: Duration?
    /// When the replica last failed to answer (the monitor or a read); it is skipped until a measurement after it.
    private(set) var failedAt: ContinuousClock.Instant?

    mutating func measured(lag: Duration?, at time: ContinuousClock.Instant) {
        measuredAt = time
        self.lag = lag
    }

    /// Marks the replica failed at `time`; returns whether that is news (it had not failed since it was last
    /// measured), so that a replica going down is logged once, not for every read that finds it so.
    @discardableResult
    mutating func failed(at time: ContinuousClock.Instant) -> Bool {
        let wasDown = isDown
        failedAt = time
        return !wasDown
    }

    /// Whether the replica failed since its last measurement (or before any).
    var isDown: Bool {
        guard let failedAt else { return false }
        return measuredAt.map { failedAt >= $0 } ?? true
    }

    /// The route of a lag-tolerant read at `now`: the replica only while a measurement younger than `maxAge` found
    /// it within `maxLag` and nothing failed since.
    func route(at now: ContinuousClock.Instant, maxLag: Duration, maxAge: Duration) -> Route {
        if isDown {
            return .primary(.down)
        }
        guard let measuredAt, now - measuredAt <= maxAge else { return .primary(.unmeasured) }
        guard let lag, lag <= maxLag else { return .primary(.lagging) }
        return .replica
    }
}
