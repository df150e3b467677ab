import Synchronization

/// The shards of one server woken since its relay last looked, as an async sequence of sets: a wake-up during a
/// pass marks its shard for the next pass, and any number of wake-ups for one shard before then make one.
///
/// Memory is bounded by the number of shards, however fast writers wake it; nothing is ever dropped. One relay task
/// iterates it (its signal is an `AsyncStream`, which allows one consumer).
final class ShardWakeUps: AsyncSequence, Sendable {
    typealias Element = [Int]

    private let pending = Mutex<Set<Int>>([])
    /// At most one signal waits: a pass takes every shard pending when it starts.
    private let signal = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    /// Marks `shard` for the next pass.
    func wake(_ shard: Int) {
        let isFirst = pending.withLock { $0.insert(shard).inserted && $0.count == 1 }
        if isFirst {
            signal.continuation.yield()
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let wakeUps: ShardWakeUps
        fileprivate var signals: AsyncStream<Void>.AsyncIterator

        /// The shards woken since the last call, in ascending order; waits while there are none.
        mutating func next() async -> [Int]? {
            while await signals.next() != nil {
                let shards = wakeUps.pending.withLock { pending in
                    defer { pending.removeAll(keepingCapacity: true) }
                    return pending.sorted()
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
