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
        await withDiscardingTaskGroup { group in
            for worker in 0..<configuration.workers {
                group.addTask { await self.work(name: "\(consumer)-\(worker)") }
            }
        }
    }

    private func work(name: String) async {
        var emptyReads = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let seen = queue.wakeUps.current
                if try await runOnce(consumer: name) == 0 {
                    emptyReads += 1
                    try await queue.wakeUps.pause(
                        for: FanOutWakeUps.idleDelay(afterEmptyReads: emptyReads), since: seen)
                } else {
                    emptyReads = 0
                    queue.wakeUps.signal()  // the jobs may have queued more (a large fan-out's pages): share them out
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

    /// Takes up to `count` jobs, runs them, and acknowledges those that succeeded; returns how many it took.
    ///
    /// The tweets created among them are applied together (``FanOutProcessor/create(_:)``: the round trips of one
    /// for all of them). When that fails for good, each is run alone with the other jobs, so that only the one at
    /// fault is dead-lettered; when it fails for a passing cause, they are all left for a retry.
    @discardableResult
    func runOnce(consumer: String, count: Int = 16) async throws -> Int {
        let batch = try await queue.next(consumer: consumer, count: count)
        var finished: [FanOutQueue.Delivery] = []
        var alone = batch.deliveries.filter { $0.job.createdTweet == nil }
        let created = batch.deliveries.filter { $0.job.createdTweet != nil }
        if !created.isEmpty {
            do {
                try await processor.create(created.compactMap(\.job.createdTweet))
                finished += created
                jobsDone.increment(by: created.count)
            } catch let error as WireError where Self.isPermanent(error) {
                alone = created + alone
            } catch {
                jobsFailed.increment(by: created.count)
                logger.warning(
                    "fan-out of created tweets failed", metadata: ["jobs": "\(created.count)", "error": "\(error)"])
            }
        }
        var claimed = ContinuousClock.now
        var waiting = alone[...]
        while let delivery = waiting.popFirst() {
            // Jobs still waiting while half the reclaim time passed: renew their claims, and drop those another
            // instance has reclaimed meanwhile, so that no job is worked by two instances at once.
            if ContinuousClock.now - claimed > configuration.reclaimAfter / 2 {
                let renewed = Set(try await queue.renewClaims([delivery] + waiting, consumer: consumer).map(\.streamID))
                claimed = .now
                waiting = waiting.filter { renewed.contains($0.streamID) }[...]
                guard renewed.contains(delivery.streamID) else { continue }
            }
            do {
                try await processor.process(delivery.job)
                finished.append(delivery)
                jobsDone.increment()
            } catch let error as WireError where Self.isPermanent(error) {
                // It would fail the same way every time (a user or tweet that no longer exists, an invalid request):
                // parked in the dead-letter stream, so that it neither returns forever nor holds up anything.
                deadLetters.increment()
                logger.error(
                    "fan-out job dead-lettered", metadata: ["stream_id": "\(delivery.streamID)", "error": "\(error)"])
                try await queue.deadLetter([
                    FanOutQueue.DeadLetter(
                        stream: delivery.stream, streamID: delivery.streamID,
                        payload: Array(delivery.job.payload().readableBytesView),
                        reason: "\(error)"
                    )
                ])
            } catch {
                // Left unacknowledged: another worker reclaims it after `reclaimAfter`.
                jobsFailed.increment()
                logger.warning(
                    "fan-out job failed", metadata: ["stream_id": "\(delivery.streamID)", "error": "\(error)"])
            }
        }
        try await queue.finish(finished)
        return batch.taken
    }
}
