import Synchronization

/// Runs an expensive check once for everyone who asks while it runs: callers that arrive during a check wait for its
/// answer instead of starting their own. Nothing is cached after it answers, so the next caller sees a fresh result.
///
/// `/readyz` uses it: it is not rate limited (load balancers probe it), and each check is two Wire calls, so a flood
/// of probes costs at most one check at a time.
final class SharedCheck: Sendable {
    private let running = Mutex<Task<Bool, Never>?>(nil)
    private let check: @Sendable () async -> Bool

    init(_ check: @escaping @Sendable () async -> Bool) {
        self.check = check
    }

    func run() async -> Bool {
        let task = running.withLock { running in
            if let running { return running }
            let task = Task { await check() }
            running = task
            return task
        }
        let result = await task.value
        running.withLock { running in
            if running == task { running = nil }
        }
        return result
    }
}
