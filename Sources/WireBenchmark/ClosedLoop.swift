/// Something that makes one round trip at a time per worker: the echo baseline or a Wire client.
protocol RoundTripper: Sendable {
    /// One request and its answer. `worker` is the calling worker's index (the echo baseline pins workers to
    /// connections with it; Wire's pool picks the connection itself).
    func roundTrip(worker: Int) async throws
}

/// What a closed-loop run measured.
struct ClosedLoopResult: Sendable {
    /// Latency of every request that succeeded, in nanoseconds, in no particular order.
    var latencies: [UInt64]
    var errors: Int
    var firstError: String?
    /// From the first request until the last worker returned (requests in flight at the deadline are waited for).
    var elapsed: Duration
}

/// A closed loop: `concurrency` workers, each sending its next request as soon as the previous one is answered,
/// until the deadline passes or each has sent its share of `maxRequests`. Both modes run exactly this loop, so they
/// have the same number of client tasks and the same per-request bookkeeping.
enum ClosedLoop {
    static func run(
        _ client: some RoundTripper,
        concurrency: Int,
        duration: Duration,
        maxRequests: Int
    ) async -> ClosedLoopResult {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let perWorker = max(1, maxRequests / max(1, concurrency))
        var result = ClosedLoopResult(latencies: [], errors: 0, firstError: nil, elapsed: .zero)
        await withTaskGroup(of: WorkerResult.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    await runWorker(client, worker: worker, deadline: deadline, maxRequests: perWorker, clock: clock)
                }
            }
            for await worker in group {
                result.latencies.append(contentsOf: worker.latencies)
                result.errors += worker.errors
                if result.firstError == nil { result.firstError = worker.firstError }
            }
        }
        result.elapsed = clock.now - start
        return result
    }

    private struct WorkerResult: Sendable {
        var latencies: [UInt64] = []
        var errors = 0
        var firstError: String?
    }

    private static func runWorker(
        _ client: some RoundTripper,
        worker: Int,
        deadline: ContinuousClock.Instant,
        maxRequests: Int,
        clock: ContinuousClock
    ) async -> WorkerResult {
        var result = WorkerResult()
        result.latencies.reserveCapacity(min(maxRequests, 1024))
        var now = clock.now
        while now < deadline, result.latencies.count < maxRequests {
            let sent = now
            do {
                try await client.roundTrip(worker: worker)
            } catch {
                // A failed request ends this worker: a loop of instant failures would only inflate the counts.
                result.errors += 1
                result.firstError = "\(error)"
                break
            }
            now = clock.now
            result.latencies.append(UInt64((now - sent).wholeNanoseconds))
        }
        return result
    }
}

extension Duration {
    /// Whole nanoseconds (benchmark durations are far from overflowing). Named apart from `Wire`'s own helper.
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    var inSeconds: Double {
        Double(wholeNanoseconds) / 1e9
    }
}
