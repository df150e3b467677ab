import Logging
import Metrics
import ServiceLifecycle

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

    init(queue: FanOutQueue, processor: FanOutProcessor, configuration: TimelineConfiguration, consumer: String, logger: Logger) {
        self.queue = queue
        self.processor = processor
        self.configuration = configuration
        self.consumer = consumer
        self.logger = logger
    }

    public func run() async throws {
        try await queue.prepare()
        await withDiscardingTaskGroup { group in
            for worker in 0..<configuration.workers {
                group.addTask { await self.work(name: "\(consumer)-\(worker)") }
            }
        }
    }

    private func work(name: String) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if try await runOnce(consumer: name) == 0 {
                    try await Task.sleep(for: .milliseconds(20))
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("fan-out worker error", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Takes up to a few jobs, runs them, and acknowledges those that succeeded; returns how many it took.
    @discardableResult
    func runOnce(consumer: String, count: Int = 4) async throws -> Int {
        let deliveries = try await queue.next(consumer: consumer, count: count)
        var finished: [FanOutQueue.Delivery] = []
        for delivery in deliveries {
            do {
                try await processor.process(delivery.job)
                finished.append(delivery)
                jobsDone.increment()
            } catch {
                // Left unacknowledged: another worker reclaims it after `reclaimAfter`.
                jobsFailed.increment()
                logger.warning("fan-out job failed", metadata: ["stream_id": "\(delivery.streamID)", "error": "\(error)"])
            }
        }
        try await queue.finish(finished)
        return deliveries.count
    }
}
