import Synchronization

/// The shards of one server woken since its relay last looked, as an async sequence of sets: a wake-up during a
/// pass marks its shard for the next pass, and any number of wake-ups for one shard before then make one.
///
/// Memory is bounded by the number of shards, however fast writers wake it; nothing is ever dropped. One relay task
/// iterates it (its signal is an `AsyncStream`, which allows one consumer), and asks for the next set only once it
/// has drained the last, so that ``lag`` can tell how long the oldest wake-up not yet drained has waited.
final class ShardWakeUps: AsyncSequence, Sendable {
    typealias Element = [Int]

    private struct State {
        var pending: Set<Int> = []
        /// When the first of the pending shards was woken.
        var pendingSince: ContinuousClock.Instant?
        /// When the first of the shards of the pass under way was woken; nil while no pass is under way.
        var passSince: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    /// At most one signal waits: a pass takes every shard pending when it starts.
    private let signal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    /// Marks `shard` for the next pass.
    func wake(_ shard: Int) {
        let isFirst = state.withLock { state in
            guard state.pending.insert(shard).inserted, state.pending.count == 1 else { return false }
            state.pendingSince = .now
            return true
        }
        if isFirst {
            signal.continuation.yield()
        }
    }

    /// How long the oldest wake-up that is not drained yet (pending, or in the pass under way) has waited; zero when
    /// there is none.
    var lag: Duration {
        state.withLock { state in
            guard let oldest = [state.passSince, state.pendingSince].compactMap({ $0 }).min() else { return .zero }
            return .now - oldest
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let wakeUps: ShardWakeUps
        fileprivate var signals: AsyncStream<Void>.AsyncIterator

        /// The shards woken since the last call, in ascending order; waits while there are none. Calling it again
        /// says that the pass over the shards it returned last is done.
        mutating func next() async -> [Int]? {
            wakeUps.state.withLock { $0.passSince = nil }
            while await signals.next() != nil {
                let shards = wakeUps.state.withLock { state in
                    defer {
                        state.pending.removeAll(keepingCapacity: true)
                        state.passSince = state.pendingSince
                        state.pendingSince = nil
                    }
                    return state.pending.sorted()
                }
                if !shards.isEmpty {
                    return shards
                }
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(wakeUps: self, signals: signal.stream.makeAsyncIterator())
    }
}
