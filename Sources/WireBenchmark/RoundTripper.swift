import BenchmarkSupport

/// Something that makes one round trip at a time per worker: the echo baseline or a Wire client.
protocol RoundTripper: Sendable {
    /// One request and its answer. `worker` is the calling worker's index (the echo baseline pins workers to
    /// connections with it; Wire's pool picks the connection itself).
    func roundTrip(worker: Int) async throws
}

extension ClosedLoop {
    /// The closed loop over one of the two modes.
    static func run(_ client: some RoundTripper, concurrency: Int, duration: Duration, maxRequests: Int) async
        -> ClosedLoopResult
    {
        await run(concurrency: concurrency, duration: duration, maxCalls: maxRequests) { worker, _ in
            try await client.roundTrip(worker: worker)
        }
    }
}
