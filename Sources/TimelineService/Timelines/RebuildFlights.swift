import Synchronization
import Wire

/// Home-timeline rebuilds in flight: one per user at a time, and a bounded number in all.
///
/// A rebuild reads a user's follow list and the recent tweets of everyone they follow from the store, the most
/// expensive thing a read can cause. When Redis lost many homes at once (a node replaced, a flush), every reader would
/// start one, and a user with several open clients would start several. Here the first read of a user leads and the
/// others wait for its outcome; past ``limit`` users rebuilding at once, further reads are refused with
/// `resource_exhausted` (the Gateway's 503) instead of piling up on the store.
final class RebuildFlights: Sendable {
    private struct Flight {
        /// Each resumed with `true` (the rebuild is done) or the rebuild's error.
        var waiters: [CheckedContinuation<Bool, any Error>] = []
    }

    /// Users whose homes may be rebuilt at once.
    let limit: Int
    private let flights = Mutex<[Int64: Flight]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Users being rebuilt now.
    var count: Int { flights.withLock { $0.count } }

    /// Runs `rebuild` for `userID`, or waits for the run already in flight for that user and shares its outcome.
    /// - Throws: what `rebuild` threw; `resource_exhausted` with reason `rebuilds_busy` when ``limit`` users are
    ///   already being rebuilt.
    func run(for userID: Int64, _ rebuild: () async throws -> Void) async throws {
        enum Role { case leader, follower, refused }
        while true {
            let role: Role = flights.withLock { flights in
                if flights[userID] != nil { return .follower }
                guard flights.count < limit else { return .refused }
                flights[userID] = Flight()
                return .leader
            }
            switch role {
            case .refused:
                throw WireError(
                    .resourceExhausted, reason: "rebuilds_busy",
                    "too many home timelines are being rebuilt; retry shortly")
            case .follower:
                let joined: Bool = try await withCheckedThrowingContinuation { continuation in
                    let joined = flights.withLock { flights in
                        guard flights[userID] != nil else { return false }
                        flights[userID]?.waiters.append(continuation)
                        return true
                    }
                    if !joined {
                        continuation.resume(returning: false)  // the leader finished in between: ask again
                    }
                }
                if joined { return }
            case .leader:
                let outcome: Result<Void, any Error>
                do {
                    try await rebuild()
                    outcome = .success(())
                } catch {
                    outcome = .failure(error)
                }
                let waiters = flights.withLock { $0.removeValue(forKey: userID)?.waiters ?? [] }
                for waiter in waiters {
                    waiter.resume(with: outcome.map { true })
                }
                return try outcome.get()
            }
        }
    }
}
