import WireTestSupport

/// Evaluates `condition` every `interval` until it holds or `timeout` has passed, and answers whether it held: the
/// tests' only way to wait for something asynchronous (fan-out, relays, reclaims), so that none sleeps and hopes.
/// An error thrown by `condition` ends the wait at once. ``eventually(within:every:_:)``, asking the whole system
/// less often by default (every 200 ms).
func poll(
    within timeout: Duration, every interval: Duration = .milliseconds(200),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    try await eventually(within: timeout, every: interval, condition)
}

/// Runs `body` with a fault in place, and heals the fault whatever `body` does: when it throws, the fault is healed
/// before the error goes on, so that a failing test cannot leave a server stopped or refusing writes for the next.
func withFault<T>(
    heal: () async throws -> Void, _ body: () async throws -> T
) async throws -> T {
    let result: T
    do {
        result = try await body()
    } catch {
        try? await heal()
        throw error
    }
    try await heal()
    return result
}
