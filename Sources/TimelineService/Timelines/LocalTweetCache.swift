import Synchronization
import Wire

/// Hot tweets in the instance's memory, in front of the Redis cache: a page of a timeline whose tweets are all here
/// is answered without a round trip for them.
///
/// Tweets never change once written, so what is here is right until the tweet is deleted. Deletes are learned from
/// the ``DeletionLog`` that every read consults (in a pipeline it sends anyway) before it looks here, and a delete is
/// in that log before its `204` is sent, so no read that starts after the `204` finds the tweet here. Two races are
/// closed by a generation that every eviction moves on:
/// - a read that fetched a tweet from Redis before its delete stores it only if nothing was evicted since the read
///   looked here (``insert(_:ifGeneration:)``), so it cannot put back what a delete took out;
/// - a read that fetches after its log showed the delete gets the tombstone from Redis, since the delete writes the
///   tombstone before it writes the log.
///
/// Bounded: at most `capacity` tweets, the oldest stored leaving first.
final class LocalTweetCache: Sendable {
    /// Where this instance stands in one stream of the ``DeletionLog``.
    enum LogPosition: Equatable {
        /// Not read yet: what happened before is unknown.
        case unknown
        /// The stream was empty (or missing) when last read.
        case empty
        /// Every entry up to and including this one has been applied.
        case at(StreamEntryID)
    }

    private struct State {
        var tweets: [Int64: TweetRecord] = [:]
        /// The ids in the order stored, as a ring: the slot after the newest is the oldest.
        var order: [Int64] = []
        var next = 0
        var generation: UInt64 = 0
        var positions: [LogPosition]
    }

    let capacity: Int
    private let state: Mutex<State>

    init(capacity: Int, logs: Int = DeletionLog.keys.count) {
        self.capacity = max(0, capacity)
        state = Mutex(State(positions: Array(repeating: .unknown, count: logs)))
    }

    /// The tweets held among `ids`, and the generation to pass to ``insert(_:ifGeneration:)`` for the others.
    func lookup(_ ids: [Int64]) -> (found: [Int64: TweetRecord], generation: UInt64) {
        state.withLock { state in
            var found: [Int64: TweetRecord] = [:]
            for id in ids {
                if let tweet = state.tweets[id] { found[id] = tweet }
            }
            return (found, state.generation)
        }
    }

    /// Stores `tweets` unless something was evicted since `generation` was read (the tweets may have been deleted
    /// since they were fetched).
    func insert(_ tweets: [TweetRecord], ifGeneration generation: UInt64) {
        guard capacity > 0, !tweets.isEmpty else { return }
        state.withLock { state in
            guard state.generation == generation else { return }
            for tweet in tweets where state.tweets.updateValue(tweet, forKey: tweet.id) == nil {
                if state.order.count < capacity {
                    state.order.append(tweet.id)
                } else {
                    state.tweets[state.order[state.next]] = nil
                    state.order[state.next] = tweet.id
                    state.next = (state.next + 1) % capacity
                }
            }
        }
    }

    /// This instance's position in stream `log`.
    func position(_ log: Int) -> LogPosition {
        state.withLock { $0.positions[log] }
    }

    /// Applies what a read found in stream `log`: evicts `deleted` (or, when `forgetAll`, every tweet) and moves the
    /// position to `newPosition`, unless another read already moved it further (its evictions cover as much). Evicting
    /// a tweet twice, or one that is not here, does no harm; moving past an entry that was not applied would.
    func apply(log: Int, to newPosition: LogPosition, deleted: [Int64], forgetAll: Bool) {
        state.withLock { state in
            state.generation &+= 1
            if forgetAll {
                state.tweets.removeAll(keepingCapacity: true)
                state.order.removeAll(keepingCapacity: true)
                state.next = 0
            } else {
                for id in deleted { state.tweets[id] = nil }
            }
            if case .at(let current) = state.positions[log], case .at(let new) = newPosition, new < current {
                return
            }
            state.positions[log] = newPosition
        }
    }

    /// Tweets held now.
    var count: Int { state.withLock { $0.tweets.count } }
}
