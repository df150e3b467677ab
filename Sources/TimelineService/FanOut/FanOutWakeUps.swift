import NIOCore
import NIOPosix
import Synchronization

/// Lets this instance's idle fan-out workers sleep longer without answering later: they back off while the queue
/// stays empty (fewer empty reads of every stream, which idle instances otherwise make hundreds of times a second),
/// and one of them goes back to work as soon as this instance queues work (a delivery of events).
///
/// Each ``signal()`` wakes one pausing worker, not all of them: a delivery is one queue entry, which one worker takes,
/// and waking every worker for it made the others read every stream for nothing (about one `XREADGROUP` per created
/// tweet under load). A worker that found work signals once more as soon as it has read it, so work that queued more
/// (a large fan-out's pages) draws in one more worker per read that finds some, and every worker within a few reads.
/// Jobs the fan-out queues itself (``FanOutProcessor``: a created tweet's chunk job for its author's further followers,
/// a chunk job's next, a delete's first) signal too.
///
/// A pausing worker sleeps until a signal or its delay ends, whichever is first: the signal resumes it directly, and
/// one event-loop timer per pause ends the delay. (It used to look for a signal every 10 ms, which woke each idle
/// worker a hundred times a second: about 1,600 context switches a second in an idle instance.)
///
/// Work queued by another instance waits at most the longest back-off (``maxIdleDelay``) before an idle worker here
/// reads it; the instance that queued it has woken one of its own workers already.
final class FanOutWakeUps: Sendable {
    /// The first idle pause, doubled after each empty read up to ``maxIdleDelay``.
    static let firstIdleDelay: Duration = .milliseconds(20)
    static let maxIdleDelay: Duration = .milliseconds(160)
    /// The most signals kept for workers that are busy when they come: an instance has a few workers, and signals past
    /// them would only cause empty reads later.
    static let maxWaitingSignals = 16

    /// A worker in its pause.
    private struct Pausing {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
        /// Ends the pause when its delay is over (nil until armed).
        var timer: Scheduled<Void>?
    }

    private struct State {
        /// Signals no worker has taken yet.
        var waitingSignals = 0
        /// The pausing workers, longest pausing first: a signal ends the first one's pause.
        var pausing: [Pausing] = []
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Where the pauses' timers run.
    private let timers: any EventLoopGroup

    init(timers: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.timers = timers
    }

    /// Workers in their pause now.
    var pausingCount: Int { state.withLock { $0.pausing.count } }

    /// Work was queued here: one pausing worker (or the next to pause) goes back to reading at once.
    func signal() {
        let woken = state.withLock { state -> Pausing? in
            guard !state.pausing.isEmpty else {
                state.waitingSignals = min(state.waitingSignals + 1, Self.maxWaitingSignals)
                return nil
            }
            return state.pausing.removeFirst()
        }
        woken?.timer?.cancel()
        woken?.continuation.resume()
    }

    /// The pause after `emptyReads` empty reads in a row (at least 1).
    static func idleDelay(afterEmptyReads emptyReads: Int) -> Duration {
        let doublings = min(max(0, emptyReads - 1), 8)
        return min(firstIdleDelay * (1 << doublings), maxIdleDelay)
    }

    /// Pauses for `delay`, or less when it takes a signal (one given before the pause began counts too: work queued
    /// while this worker was reading is not missed).
    /// - Throws: `CancellationError` when the task is cancelled during the pause.
    func pause(for delay: Duration) async throws {
        let id = state.withLock { state in
            state.lastID += 1
            return state.lastID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let tookSignal = state.withLock { state in
                    guard state.waitingSignals == 0 else {
                        state.waitingSignals -= 1
                        return true
                    }
                    state.pausing.append(Pausing(id: id, continuation: continuation))
                    return false
                }
                guard !tookSignal else { return continuation.resume() }
                // Cancelled before the handler below could find this pause: end it here.
                guard !Task.isCancelled else { return end(id, with: .failure(CancellationError())) }
                let timer = timers.any().scheduleTask(in: TimeAmount(delay)) { self.end(id, with: .success(())) }
                let armed = state.withLock { state in
                    guard let index = state.pausing.firstIndex(where: { $0.id == id }) else { return false }
                    state.pausing[index].timer = timer
                    return true
                }
                if !armed {
                    timer.cancel()  // a signal or the cancellation ended the pause already
                }
            }
        } onCancel: {
            end(id, with: .failure(CancellationError()))
        }
    }

    /// Ends pause `id` with `result` if it is still pausing (each pause is resumed exactly once: by whoever takes it
    /// out of the list).
    private func end(_ id: UInt64, with result: Result<Void, any Error>) {
        let ended = state.withLock { state -> Pausing? in
            state.pausing.firstIndex { $0.id == id }.map { state.pausing.remove(at: $0) }
        }
        ended?.timer?.cancel()
        ended?.continuation.resume(with: result)
    }
}
