import Logging
import Metrics
import Synchronization
import Wire

/// What `deliver_events` does with a batch of outbox events before it acknowledges them.
///
/// The created tweets are applied at once (``FanOutProcessor/create(_:)``: the cache, the public timeline, the
/// author's profile and home, the first page of followers' homes; further pages are queued as chunk jobs), and every
/// other event is queued. Either way nothing is acknowledged before its writes, or the queue's entries, were accepted
/// and, with ``TimelineConfiguration/replication``, held by a replica; until then the events stay in the TweetService's
/// outbox, which is the durable queue of a small fan-out. A creation applied at once costs no queue entry to add, read,
/// acknowledge and delete, and reaches its followers one hop sooner.
///
/// A creation that cannot be applied at once for any reason (a Redis node refusing, a follower page the store cannot
/// give) is queued instead, and the workers retry it as they do every queued event (dead-lettering, after a failure
/// for good, only the one at fault); only when the queue refuses too does the delivery fail. The writes are idempotent
/// and a creation checks the tombstones after its writes (see ``FanOutProcessor``), so applying part of it first and
/// queuing it after, or applying it again on a redelivery, changes nothing.
///
/// What is applied at once is bounded, so that a delivery's time and memory stay those of a small fan-out: at most
/// ``maxFollowersApplied`` follower homes a delivery (counted from the follower counts the events carry; a creation
/// past the budget, or whose count is unknown, is queued), and at most ``TimelineConfiguration/workers`` deliveries
/// applying at once on an instance (a delivery that finds them all busy queues its creations).
struct EventDelivery: Sendable {
    /// The most follower homes the creations of one delivery may be written to at once.
    static let maxFollowersApplied: Int64 = 20_000

    let queue: FanOutQueue
    let processor: FanOutProcessor
    let cache: TweetCache
    let configuration: TimelineConfiguration
    private let appliedAtOnce = Counter(label: "timeline_delivered_creations_applied_total")
    private let queuedAfterFailure = Counter(label: "timeline_delivered_creations_queued_after_failure_total")
    /// Deliveries applying creations now on this instance.
    private let applying: ApplySlots

    init(queue: FanOutQueue, processor: FanOutProcessor, cache: TweetCache, configuration: TimelineConfiguration) {
        self.queue = queue
        self.processor = processor
        self.cache = cache
        self.configuration = configuration
        self.applying = ApplySlots(limit: configuration.workers)
    }

    /// Whether created tweets are applied here (``TimelineConfiguration/applyCreationsOnDelivery``), not queued: never
    /// by an instance without workers, which does no fan-out work of its own.
    private var appliesCreations: Bool {
        configuration.applyCreationsOnDelivery && configuration.workers > 0
    }

    /// The follower homes a creation applied here writes: its first page of followers (the rest go to chunk jobs).
    private func homesApplied(_ authorFollowers: Int64) -> Int64 {
        min(authorFollowers, Int64(configuration.fanOutChunkSize))
    }

    /// Queues or applies `events`; returns once all of it is done or durably queued.
    ///
    /// A delete's tombstone and its deletion-log entries are written first, so that a deleted tweet is hidden
    /// everywhere from then on, and a creation of it in the same batch writes nothing.
    func accept(_ events: [TimelineEvent], logger: Logger) async throws {
        var created: [(event: TimelineEvent, tweet: FanOutProcessor.CreatedTweet)] = []
        var queued: [TimelineEvent] = []
        var deleted: [Int64] = []
        var budget = Self.maxFollowersApplied
        for event in events {
            switch event.change {
            case .tweetCreated(let tweet, let authorFollowers?)
            where appliesCreations && homesApplied(authorFollowers) <= budget:
                budget -= homesApplied(authorFollowers)
                created.append((event, FanOutProcessor.CreatedTweet(tweet: tweet, authorFollowers: authorFollowers)))
            case .tweetDeleted(let tweetID, _):
                deleted.append(tweetID)
                queued.append(event)
            default:
                queued.append(event)
            }
        }
        // With every slot busy, the creations go to the queue with the rest, in the delivery's order.
        let applies = !created.isEmpty && applying.take()
        defer { if applies { applying.give() } }
        try await queue.enqueue(
            FanOutJob.entries(queuing: applies ? queued : events), after: cache.storeCommands([], tombstones: deleted))
        // Announced to every instance's in-process cache only once the tombstones hold (LocalTweetCache).
        if !deleted.isEmpty {
            _ = try await cache.redis.pipeline(
                DeletionLog.appendCommands(deleted), replicatedTo: configuration.replication)
        }
        guard applies else { return }
        do {
            try await processor.create(created.map(\.tweet))
            appliedAtOnce.increment(by: created.count)
        } catch {
            logger.notice(
                "created tweets not applied on delivery; queued instead",
                metadata: ["tweets": "\(created.count)", "error": "\(error)"])
            try await queue.enqueue(FanOutJob.entries(queuing: created.map(\.event)))
            queuedAfterFailure.increment(by: created.count)
        }
    }
}

/// Permits to apply creations on delivery, taken without waiting: a delivery that finds none free queues instead.
private final class ApplySlots: Sendable {
    private let taken = Atomic(0)
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func take() -> Bool {
        guard taken.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            taken.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func give() {
        taken.wrappingSubtract(1, ordering: .relaxed)
    }
}
