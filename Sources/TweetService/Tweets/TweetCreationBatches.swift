import Metrics
import NIOCore
import Synchronization
import Wire

/// Tweets created on the same shard at the same time are stored together: one statement, one transaction and one
/// round trip for the whole group (``TweetStatements/create(schema:)``), instead of one each.
///
/// There is no timer and no wait for a group to fill. A shard with nothing being stored stores a creation at once;
/// creations that arrive while a group is being stored wait for it and then go together, up to
/// ``Configuration/maxBatchSize``. So under light load every creation goes alone, as fast as before, and under heavy
/// load the groups grow with it, and PostgreSQL's cost per tweet (the statement, the commit and its WAL flush) and the
/// hops to a libpq thread are shared.
///
/// Every creation in a group gets its own answer: its tweet, `nil` when its author does not exist (nothing of it is
/// stored), or an error when nothing of it was stored. When PostgreSQL refuses a group's statement, each creation is
/// tried again alone, so that one the server refuses cannot fail the others; a broken connection or a timeout fails
/// the group. A creation whose
/// `storeBy` has passed when its group is formed is refused with `unavailable/too_late` and is not stored, so a
/// creation that waited behind a slow group still commits or fails inside its caller's deadline.
final class TweetCreationBatches: Sendable {
    struct Configuration: Sendable {
        /// Creations in one statement.
        var maxBatchSize: Int
        /// Creations waiting for one shard; past it a creation is refused with `resource_exhausted`.
        var maxWaitingPerShard: Int

        init(maxBatchSize: Int = 64, maxWaitingPerShard: Int = 1024) {
            precondition(maxBatchSize >= 1 && maxWaitingPerShard >= 1)
            self.maxBatchSize = maxBatchSize
            self.maxWaitingPerShard = maxWaitingPerShard
        }
    }

    /// One creation waiting for its group.
    private struct Waiter: Sendable {
        let request: NewTweet
        let storeBy: ContinuousClock.Instant
        let continuation: CheckedContinuation<TweetRecord?, any Error>
    }

    /// A creation that could not start storing within its caller's deadline (nothing of it was stored).
    static let tooLate = WireError(
        .unavailable, reason: "too_late",
        "the tweet could not be stored within the caller's deadline; nothing was stored, retry")

    private let database: ShardedDatabase
    private let configuration: Configuration
    /// The creations waiting per shard. A shard is in the table exactly while a task is storing its groups; that task
    /// takes the shard out when it finds nothing more waiting.
    private let waiting = Mutex<[Int: CircularBuffer<Waiter>]>([:])
    private let groupsStored = Mutex<Int>(0)
    private let groups = Counter(label: "tweet_service_creation_groups_total")
    private let grouped = Counter(label: "tweet_service_creation_grouped_tweets_total")

    init(database: ShardedDatabase, configuration: Configuration = Configuration()) {
        self.database = database
        self.configuration = configuration
    }

    /// Groups stored so far (each one statement).
    var groupCount: Int { groupsStored.withLock { $0 } }

    /// The creations waiting behind the group being stored on `shard`; nil when none is being stored.
    func waitingCount(onShard shard: Int) -> Int? {
        waiting.withLock { $0[shard]?.count }
    }

    /// Stores one tweet with whatever else is being created on `shard`; `nil` when its author does not exist there.
    func create(_ request: NewTweet, onShard shard: Int, storeBy: ContinuousClock.Instant) async throws -> TweetRecord?
    {
        try await withCheckedThrowingContinuation { continuation in
            let waiter = Waiter(request: request, storeBy: storeBy, continuation: continuation)
            let outcome = waiting.withLock { waiting -> Enqueued in
                guard waiting[shard] != nil else {
                    waiting[shard] = CircularBuffer()
                    return .storesNow
                }
                guard waiting[shard]!.count < configuration.maxWaitingPerShard else { return .refused }
                waiting[shard]!.append(waiter)
                return .queued
            }
            switch outcome {
            case .storesNow:
                Task { await self.store(first: waiter, shard: shard) }
            case .queued:
                break
            case .refused:
                continuation.resume(
                    throwing: WireError(
                        .resourceExhausted, reason: "too_many_creations",
                        "too many tweets waiting to be stored on shard \(shard); retry"))
            }
        }
    }

    private enum Enqueued {
        case storesNow, queued, refused
    }

    /// Stores `first` alone, then the groups that gathered meanwhile, until none is waiting.
    private func store(first: Waiter, shard: Int) async {
        var group = [first]
        while !group.isEmpty {
            await store(group, shard: shard)
            group = waiting.withLock { waiting in
                let count = min(configuration.maxBatchSize, waiting[shard]?.count ?? 0)
                guard count > 0 else {
                    waiting[shard] = nil
                    return []
                }
                var taken: [Waiter] = []
                taken.reserveCapacity(count)
                for _ in 0..<count {
                    taken.append(waiting[shard]!.removeFirst())
                }
                return taken
            }
        }
    }

    /// Stores a group: those past their deadline are refused, the rest go in one statement. When PostgreSQL refused
    /// the statement (so nothing of it was written), each creation is tried again alone, so that one creation the
    /// server refuses fails alone; a broken connection or a timeout fails the whole group.
    private func store(_ group: [Waiter], shard: Int) async {
        let now = ContinuousClock.now
        for waiter in group where now > waiter.storeBy {
            waiter.continuation.resume(throwing: Self.tooLate)
        }
        let live = group.filter { now <= $0.storeBy }
        guard !live.isEmpty else { return }
        do {
            let stored = try await statement(live, shard: shard)
            for (waiter, tweet) in zip(live, stored) {
                waiter.continuation.resume(returning: tweet)
            }
        } catch let error as PostgresError where live.count > 1 && Self.wasRefused(error) {
            for waiter in live {
                await store([waiter], shard: shard)
            }
        } catch {
            for waiter in live {
                waiter.continuation.resume(throwing: error)
            }
        }
    }

    /// Whether PostgreSQL refused the statement itself (it ran and wrote nothing), as opposed to a connection that broke
    /// (its outcome unknown) or a bound that ran out (trying again would only run out again).
    private static func wasRefused(_ error: PostgresError) -> Bool {
        error.code == .queryFailed || error.code == .uniqueViolation
    }

    /// Runs the statement for `group`: each creation's tweet, or nil when its author does not exist.
    private func statement(_ group: [Waiter], shard: Int) async throws -> [TweetRecord?] {
        let authors = group.map(\.request.authorID).postgresArray
        let texts = group.map(\.request.text).postgresArray
        let replies = group.map(\.request.inReplyToID).postgresArray
        let stored = try await database.withShard(shard) { connection, schema in
            let rows = try connection.execute(TweetStatements.create(schema: schema), [authors, texts, replies])
            var stored = [(id: Int64, username: String)?](repeating: nil, count: group.count)
            for row in rows.all {
                stored[Int(try row.int64("n")) - 1] = (try row.int64("id"), try row.string("username"))
            }
            return stored
        }
        groupsStored.withLock { $0 += 1 }
        groups.increment()
        grouped.increment(by: group.count)
        return zip(group, stored).map { waiter, tweet in
            tweet.map {
                TweetRecord(
                    id: $0.id, userID: waiter.request.authorID, username: $0.username, text: waiter.request.text,
                    createdAtMillis: TweeterID.unixMillis(of: $0.id), inReplyToID: waiter.request.inReplyToID)
            }
        }
    }
}
