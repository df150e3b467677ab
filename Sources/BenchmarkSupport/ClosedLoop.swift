import Wire

/// What a closed-loop run measured.
public struct ClosedLoopResult: Sendable {
    /// Latency of every call that succeeded, in nanoseconds, in no particular order.
    public var latencies: [UInt64] = []
    public var errors = 0
    public var firstError: String?
    /// From the first call until the last worker returned (calls in flight at the deadline are waited for).
    public var elapsed: Duration = .zero

    public var callsPerSecond: Double {
        elapsed > .zero ? Double(latencies.count) / elapsed.inSeconds : 0
    }
}

/// `concurrency` workers, each making its next call as soon as its last one is answered, until the deadline passes
/// or `maxCalls` calls have been made in all. The same loop drives every measurement of ours and, in the Wire
/// benchmark, the echo baseline too, like pgbench's and redis-benchmark's clients drive theirs.
public enum ClosedLoop {
    /// - Parameter call: one call; gets the worker's index and the worker's call number.
    public static func run(
        concurrency: Int,
        duration: Duration,
        maxCalls: Int = .max,
        _ call: @escaping @Sendable (_ worker: Int, _ iteration: Int) async throws -> Void
    ) async -> ClosedLoopResult {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let perWorker = max(1, maxCalls / max(1, concurrency))
        var result = ClosedLoopResult()
        await withTaskGroup(of: ClosedLoopResult.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var mine = ClosedLoopResult()
                    var now = clock.now
                    while now < deadline, mine.latencies.count < perWorker {
                        let sent = now
                        do {
                            try await call(worker, mine.latencies.count)
                        } catch {
                            // A failure ends this worker: a loop of instant failures would only inflate the counts.
                            mine.errors += 1
                            mine.firstError = "\(error)"
                            break
                        }
                        now = clock.now
                        mine.latencies.append(UInt64((now - sent).nanoseconds))
                    }
                    return mine
                }
            }
            for await mine in group {
                result.latencies += mine.latencies
                result.errors += mine.errors
                result.firstError = result.firstError ?? mine.firstError
            }
        }
        result.elapsed = clock.now - start
        return result
    }
}

extension Duration {
    /// Whole milliseconds of a positive number of seconds given on the command line.
    public static func seconds(fraction seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
