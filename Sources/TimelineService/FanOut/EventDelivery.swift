import Logging
import Metrics
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
/// give) is queued instead, and the workers retry it or dead-letter it one event at a time, as they do every queued
/// event; only when the queue refuses too does the delivery fail. The writes are idempotent and a creation checks the
/// tombstones after its writes (see ``FanOutProcessor``), so applying part of it first and queuing it after, or
/// applying it again on a redelivery, changes nothing.
struct EventDelivery: Sendable {
    let queue: FanOutQueue
    let processor: FanOutProcessor
    let cache: TweetCache
    let configuration: TimelineConfiguration
    private let appliedAtOnce = Counter(label: "timeline_delivered_creations_applied_total")
    private let queuedAfterFailure = Counter(label: "timeline_delivered_creations_queued_after_failure_total")

    init(queue: FanOutQueue, processor: FanOutProcessor, cache: TweetCache, configuration: TimelineConfiguration) {
        self.queue = queue
        self.processor = processor
        self.cache = cache
        self.configuration = configuration
    }

    /// Whether created tweets are applied here (``TimelineConfiguration/applyCreationsOnDelivery``), not queued: never
    /// by an instance without workers, which does no fan-out work of its own.
    private var appliesCreations: Bool {
        configuration.applyCreationsOnDelivery && configuration.workers > 0
    }

    /// Queues or applies `events`; returns once all of it is done or durably queued.
    ///
    /// A delete's tombstone and its deletion-log entries are written first, so that a deleted tweet is hidden
    /// everywhere from then on, and a creation of it in the same batch writes nothing.
    func accept(_ events: [TimelineEvent], logger: Logger) async throws {
        var created: [(event: TimelineEvent, tweet: FanOutProcessor.CreatedTweet)] = []
        var queued: [TimelineEvent] = []
        var deleted: [Int64] = []
        for event in events {
            switch event.change {
            case .tweetCreated(let tweet, let authorFollowers) where appliesCreations:
                created.append((event, FanOutProcessor.CreatedTweet(tweet: tweet, authorFollowers: authorFollowers)))
            case .tweetDeleted(let tweetID, _):
                deleted.append(tweetID)
                queued.append(event)
            default:
                queued.append(event)
            }
        }
        try await queue.enqueue(
            FanOutJob.entries(queuing: queued), after: cache.storeCommands([], tombstones: deleted))
        // Announced to every instance's in-process cache only once the tombstones hold (LocalTweetCache).
        if !deleted.isEmpty {
            _ = try await cache.redis.pipeline(
                DeletionLog.appendCommands(deleted), replicatedTo: configuration.replication)
        }
        guard !created.isEmpty else { return }
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
