/// Asks `condition` until it holds, every `interval`, for at most `timeout`; whether it held. For tests that wait
/// for something another task or process does: as fast as the condition allows, and never a fixed sleep.
public func eventually(
    within timeout: Duration = .seconds(10), every interval: Duration = .milliseconds(2),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: interval)
    }
}
