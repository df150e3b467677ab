import Wire

/// Decides whether one more password hash may queue, by the work already queued: a hash is admitted only if the
/// hashes ahead of it are expected to finish within ``maxQueueWait``.
///
/// Scrypt is slow on purpose (about 4 hashes a second on two threads at the production cost), so an unbounded queue
/// turns a flood of sign-ins into minutes of waiting for everyone. Refusing at once instead lets the caller answer
/// 503 with `Retry-After` while the queue stays short enough that an admitted sign-in finishes in seconds. The time a
/// hash takes is measured (an exponential moving average of recent hashes), so the bound holds whatever the cost
/// parameters and the machine; before the first measurement, ``Configuration``'s estimate stands in.
///
/// Pure arithmetic on durations it is given; ``PasswordHasher`` holds one under a lock.
struct HashingAdmission: Sendable {
    /// Hashes admitted and not finished (running or waiting).
    private(set) var inFlight = 0
    /// The recent average time one hash takes on one thread.
    private(set) var secondsPerHash: Double
    let threads: Int
    let maxQueueWait: Double

    init(threads: Int, maxQueueWait: Duration, estimatedHashTime: Duration) {
        self.threads = max(1, threads)
        self.maxQueueWait = maxQueueWait.inSeconds
        secondsPerHash = estimatedHashTime.inSeconds
    }

    /// How long a hash admitted now would wait for a thread.
    var expectedWait: Double {
        Double(max(0, inFlight - threads + 1)) / Double(threads) * secondsPerHash
    }

    /// Admits one more hash unless the expected wait is over the bound. A free thread always admits.
    mutating func admit() -> Bool {
        guard inFlight < threads || expectedWait <= maxQueueWait else { return false }
        inFlight += 1
        return true
    }

    /// One admitted hash is done; `duration` is how long it ran (measured only when it ran).
    mutating func finish(ranFor duration: Duration?) {
        inFlight = max(0, inFlight - 1)
        if let duration {
            secondsPerHash = 0.8 * secondsPerHash + 0.2 * duration.inSeconds
        }
    }
}
