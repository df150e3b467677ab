import Logging
import Metrics
import ServiceLifecycle
import Wire

/// Takes jobs from the ``FanOutQueue`` and runs them, ``TimelineConfiguration/workers`` at a time. Every
/// TimelineService instance runs these; they share the queue, so adding instances adds fan-out capacity.
public struct FanOutWorkers: Service {
    let queue: FanOutQueue
    let processor: FanOutProcessor
    let configuration: TimelineConfiguration
    let consumer: String
    let logger: Logger
    private let jobsDone = Counter(label: "timeline_fanout_jobs_total")
    private let jobsFailed = Counter(label: "timeline_fanout_job_failures_total")
    private let deadLetters = Counter(label: "timeline_fanout_dead_letters_total")

    init(
        queue: FanOutQueue, processor: FanOutProcessor, configuration: TimelineConfiguration, consumer: String,
        logger: Logger
    ) {
        self.queue = queue
        self.processor = processor
        self.configuration = configuration
        self.consumer = consumer
        self.logger = logger
    }

    /// Works the queue until shutdown. With no ``TimelineConfiguration/workers``, the instance serves reads and
    /// queues events but takes no job: it waits for shutdown instead of ending (which would stop the process).
    public func run() async throws {
        try await queue.prepare()
        guard configuration.workers > 0 else {
            try await gracefulShutdown()
            return
        }
        // Each worker on an event loop of the Redis client's group: its job is mostly waiting for Redis and the
        // TweetService, whose answers arrive on those loops (no hop to the cooperative pool and back for each).
        await withDiscardingTaskGroup { group in
            for worker in 0..<configuration.workers {
                let executor = EventLoopTaskExecutor(eventLoop: queue.redis.eventLoopGroup.next())
                group.addTask(executorPreference: executor) { await self.work(name: "\(consumer)-\(worker)") }
            }
        }
    }

    private func work(name: String) async {
        var emptyReads = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if try await runOnce(consumer: name) == 0 {
                    emptyReads += 1
                    try await queue.wakeUps.pause(for: FanOutWakeUps.idleDelay(afterEmptyReads: emptyReads))
                } else {
                    emptyReads = 0
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("fan-out worker error", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Errors that retrying cannot cure. (`unavailable`, timeouts and Redis errors are transient: the job is retried.)
    static func isPermanent(_ error: WireError) -> Bool {
        error.code == .notFound || error.code == .invalidArgument
    }

    /// One piece of a taken job (``FanOutJob/parts``: an event of a delivery, or a whole chunk job), and the index
    /// of its job among those taken.
    private struct Part {
        let delivery: Int
        let job: FanOutJob
    }

    /// Takes up to `count` jobs, runs them, and acknowledges those whose every part succeeded; returns how many it
    /// took.
    ///
    /// The tweets created among all the parts are applied together (``FanOutProcessor/create(_:)``: the round trips
    /// of one for all of them). When that fails for good, each is run alone with the other parts, so that only the one
    /// at fault is dead-lettered; when it fails for a passing cause, the jobs that hold them are left for a retry. A
    /// part that fails for good is dead-lettered alone, once the rest of its job is done; a part that fails for a
    /// passing cause leaves its whole job for a retry (every write is idempotent, so the parts already done may run
    /// again).
    @discardableResult
    func runOnce(consumer: String, count: Int = 16) async throws -> Int {
        let batch = try await queue.next(consumer: consumer, count: count)
        if batch.taken > 0 {
            // There may be more (a large fan-out's chunks): one more worker looks while this one works.
            queue.wakeUps.signal()
        }
        var claimed = ContinuousClock.now
        let deliveries = batch.deliveries
        let parts = deliveries.indices.flatMap { index in
            deliveries[index].job.parts.map { Part(delivery: index, job: $0) }
        }
        // Jobs with a part not done (failed, or reclaimed by another instance meanwhile): not acknowledged.
        var unfinished = Set<Int>()
        var failedForGood: [(part: Part, error: WireError)] = []
        var alone = parts.filter { $0.job.createdTweet == nil }
        let created = parts.filter { $0.job.createdTweet != nil }
        if !created.isEmpty {
            do {
                try await processor.create(created.compactMap(\.job.createdTweet))
                jobsDone.increment(by: created.count)
            } catch let error as WireError where Self.isPermanent(error) {
                alone = created + alone
            } catch {
                unfinished.formUnion(created.map(\.delivery))
                jobsFailed.increment(by: created.count)
                logger.warning(
                    "fan-out of created tweets failed", metadata: ["tweets": "\(created.count)", "error": "\(error)"])
            }
        }
        // Half the reclaim time since the claims were taken or renewed: renew those of every job still to be
        // acknowledged, and give up those another instance has reclaimed meanwhile (their parts are not worked, and
        // the jobs are neither parked nor acknowledged here), so that no job is worked by two instances at once.
        func renewClaimsIfDue() async throws {
            guard ContinuousClock.now - claimed > configuration.reclaimAfter / 2 else { return }
            let held = deliveries.indices.filter { !unfinished.contains($0) }
            let renewed = Set(
                try await queue.renewClaims(held.map { deliveries[$0] }, consumer: consumer).map(\.streamID))
            claimed = .now
            unfinished.formUnion(held.filter { !renewed.contains(deliveries[$0].streamID) })
        }
        // How a part ended: a part that failed for good is parked (below); one that failed for a passing cause leaves
        // its job unacknowledged and the job's other parts skipped, for another worker to reclaim after `reclaimAfter`.
        func settle(_ part: Part, _ error: (any Error)?) {
            guard let error else {
                jobsDone.increment()
                return
            }
            if let error = error as? WireError, Self.isPermanent(error) {
                // It would fail the same way every time (a user or tweet that no longer exists, an invalid request):
                // parked in the dead-letter stream, so that it neither returns forever nor holds up anything.
                failedForGood.append((part, error))
                return
            }
            unfinished.insert(part.delivery)
            jobsFailed.increment()
            logger.warning(
                "fan-out job failed",
                metadata: ["stream_id": "\(deliveries[part.delivery].streamID)", "error": "\(error)"])
        }
        // Events one after another, in their order; the pages of followers (whole jobs, independent of each other)
        // ``TimelineConfiguration/pagesAtOnce`` at a time.
        let pages = alone.filter(\.job.isFollowerPage)
        for part in alone where !part.job.isFollowerPage {
            try await renewClaimsIfDue()
            guard !unfinished.contains(part.delivery) else { continue }
            do {
                try await processor.process(part.job)
                settle(part, nil)
            } catch {
                settle(part, error)
            }
        }
        try await withThrowingTaskGroup(of: (Part, (any Error)?).self) { group in
            var running = 0
            for part in pages {
                try await renewClaimsIfDue()
                guard !unfinished.contains(part.delivery) else { continue }
                if running == max(1, configuration.pagesAtOnce), let (done, error) = try await group.next() {
                    settle(done, error)
                    running -= 1
                    // Waiting for a free slot can take a job's length: the claims are checked again before the start.
                    try await renewClaimsIfDue()
                    guard !unfinished.contains(part.delivery) else { continue }
                }
                group.addTask { [processor] in
                    do {
                        try await processor.process(part.job)
                        return (part, nil)
                    } catch {
                        return (part, error)
                    }
                }
                running += 1
            }
            // The claims are renewed as each job ends, so that the last ones do not run on lapsed claims.
            for try await (done, error) in group {
                settle(done, error)
                try await renewClaimsIfDue()
            }
        }
        try await renewClaimsIfDue()
        // Parked only with the rest of their job: a job retried whole would park them again.
        let parked = failedForGood.filter { !unfinished.contains($0.part.delivery) }
        for (part, error) in parked {
            deadLetters.increment()
            logger.error(
                "fan-out job dead-lettered",
                metadata: ["stream_id": "\(deliveries[part.delivery].streamID)", "error": "\(error)"])
        }
        try await queue.park(
            parked.map { part, error in
                FanOutQueue.DeadLetter(
                    stream: deliveries[part.delivery].stream, streamID: deliveries[part.delivery].streamID,
                    payload: Array(part.job.payload().readableBytesView), reason: "\(error)")
            })
        try await queue.finish(deliveries.indices.filter { !unfinished.contains($0) }.map { deliveries[$0] })
        return batch.taken
    }
}
