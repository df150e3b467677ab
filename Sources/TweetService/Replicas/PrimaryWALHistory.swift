/// Where a primary's write-ahead log stood at recent moments, so that a replica's lag can be told from its replay
/// position alone.
///
/// A replica that has replayed up to position `p` holds everything the primary held at the last moment its log
/// ended at or before `p`: its lag is how long ago that was. Unlike `now() - pg_last_xact_replay_timestamp()`, this
/// stays small on an idle primary (its position does not move, so the newest sample qualifies) and grows on a busy
/// one as soon as replay stops.
struct PrimaryWALHistory: Sendable {
    /// The primary's WAL position (bytes since `0/0`) at a moment.
    struct Sample: Sendable, Hashable {
        var time: ContinuousClock.Instant
        var position: Int64
    }

    /// How far back samples are kept: a replica behind the oldest is lagging by more than this.
    let window: Duration
    /// Oldest first; positions never decrease.
    private(set) var samples: [Sample] = []

    init(window: Duration) {
        self.window = window
    }

    /// Records the primary at `position` at `time`. A position below the last one (a primary restored or replaced)
    /// starts the history again, since older positions then say nothing about the new log.
    mutating func record(position: Int64, at time: ContinuousClock.Instant) {
        if let last = samples.last, position < last.position {
            samples.removeAll()
        }
        samples.append(Sample(time: time, position: position))
        let oldest = time - window
        if let keep = samples.firstIndex(where: { $0.time >= oldest }), keep > 0 {
            samples.removeFirst(keep)
        }
    }

    /// The lag at `time` of a replica that has replayed up to `replayed`: the time since the newest sample whose
    /// position is at or before `replayed` (an over-estimate by at most the sampling interval). `nil` when no sample
    /// qualifies: the replica is behind the whole history, or nothing was sampled yet.
    func lag(ofReplayed replayed: Int64, at time: ContinuousClock.Instant) -> Duration? {
        guard let sample = samples.last(where: { $0.position <= replayed }) else { return nil }
        return max(.zero, time - sample.time)
    }
}
