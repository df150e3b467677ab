import NIOCore

/// A `TaskExecutor` that runs jobs on one SwiftNIO event loop, so that a task preferring it (a Wire request's handler,
/// a fan-out worker, the outbox relay's drains) runs beside the I/O it waits for instead of hopping to Swift's
/// cooperative pool and back for every read, write and answer.
///
/// Each hop to the pool wakes one of its threads; under load those wake-ups and the context switches after them cost
/// a service a large share of its CPU (measured: three to five switches a created tweet in the TimelineServices,
/// docs/performance.md, "Runs of 5 Dec"). A task that prefers this executor resumes on its loop with a queued closure instead.
///
/// Only for work that never blocks: a job holds up every other channel on the loop while it runs. Blocking calls
/// (libpq, password hashing) keep their own threads, as everywhere.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop that runs every job.
    public let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
