import Synchronization

/// Which fan-out streams one instance reads next, and when it walks the pending entries again (`XAUTOCLAIM`).
///
/// Reads rotate over the streams, so that every stream is read by every instance without each call asking all of
/// them. Reclaim sweeps go over every stream, each from where its last sweep stopped: often while the queue is idle
/// (a quarter of ``TimelineConfiguration/reclaimAfter``), and once per ``TimelineConfiguration/reclaimAfter`` while it
/// is busy, so that a dead instance's jobs never wait behind a steady stream of new ones.
final class FanOutSchedule: Sendable {
    private struct State {
        var nextRead = 0
        var cursors: [String: String] = [:]
        var lastSweep: ContinuousClock.Instant?
    }

    private let streams: [String]
    private let state = Mutex(State())

    init(streams: [String]) {
        self.streams = streams
    }

    /// The next `count` streams to read, in turn.
    func streamsToRead(_ count: Int) -> [String] {
        state.withLock { state in
            let first = state.nextRead
            state.nextRead = (first + count) % streams.count
            return (0..<min(count, streams.count)).map { streams[(first + $0) % streams.count] }
        }
    }

    /// The cursor of each stream to sweep from now, or `nil` when no sweep is due.
    func sweep(idle: Bool, reclaimAfter: Duration) -> [(stream: String, cursor: String)]? {
        state.withLock { state in
            let interval = idle ? reclaimAfter / 4 : reclaimAfter
            if let last = state.lastSweep, ContinuousClock.now - last < interval {
                return nil
            }
            state.lastSweep = .now
            return streams.map { ($0, state.cursors[$0] ?? "0-0") }
        }
    }

    /// Records where the walk over `stream` goes on (`0-0` after its last pending entry: start over).
    func advance(_ stream: String, to cursor: String) {
        state.withLock { $0.cursors[stream] = cursor }
    }
}
