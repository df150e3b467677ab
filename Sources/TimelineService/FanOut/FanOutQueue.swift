import Foundation
import NIOCore
import Synchronization
import Wire

/// The durable queue of ``FanOutJob``s: a Redis stream read through a consumer group.
///
/// A job stays in the stream until a worker acknowledges it after doing the work (then it is deleted, so the stream
/// holds only the backlog). A job claimed by a worker that died is taken over by another after
/// ``TimelineConfiguration/reclaimAfter``. Redis persists the stream (the test and local servers run with AOF).
///
/// A job that can never succeed is parked in the dead-letter stream (`fanout:dead`, newest 10,000 kept) with its
/// reason, so that it does not come back every ``TimelineConfiguration/reclaimAfter`` forever: one that cannot be
/// decoded, one whose work failed for good (see ``FanOutWorkers``), and one delivered more than
/// ``TimelineConfiguration/maxDeliveries`` times.
struct FanOutQueue: Sendable {
    static let stream = "fanout:jobs"
    static let group = "fanout-workers"
    static let deadLetters = "fanout:dead"
    static let deadLettersKept = 10_000

    struct Delivery: Sendable {
        let streamID: String
        let job: FanOutJob
    }

    /// A job taken off the queue for good, and why.
    struct DeadLetter: Sendable {
        let streamID: String
        let payload: [UInt8]
        let reason: String
    }

    let redis: RedisClient
    let configuration: TimelineConfiguration
    /// Where this instance's walk over the pending entries stands, and when it is due again.
    let reclaim = ReclaimSchedule()

    /// Creates the consumer group if it does not exist yet, and lets every master keep timelines up to 1024 entries
    /// in the compact listpack encoding (about 11 bytes per entry instead of about 80 in a skiplist).
    func prepare() async throws {
        _ = try await redis.onAllMasters(RedisCommand("CONFIG", "SET", "zset-max-listpack-entries", 1024))
        do {
            _ = try await redis.send(RedisCommand("XGROUP", "CREATE", Self.stream, Self.group, "0", "MKSTREAM").withKey(at: 2))
        } catch where error.message.contains("BUSYGROUP") {
            return
        }
    }

    /// Appends jobs, after `writes` (tombstones that must hold before the jobs are acknowledged), and returns once
    /// Redis accepted all of it and, with ``TimelineConfiguration/replication``, a replica holds it.
    /// - Throws: `resource_exhausted` when the backlog is at its limit; ``RedisError`` when Redis refused or could not
    ///   replicate any of it (nothing may be acknowledged then).
    func enqueue(_ jobs: [FanOutJob], after writes: [RedisCommand] = []) async throws {
        guard !jobs.isEmpty else { return }
        let length = try await redis.send(RedisCommand("XLEN", key: Self.stream)).integer ?? 0
        guard length + Int64(jobs.count) <= configuration.maxQueueLength else {
            throw WireError(.resourceExhausted, reason: "queue_full", "the fan-out queue is full; retry later")
        }
        _ = try await redis.pipeline(writes + jobs.map(Self.add), replicatedTo: configuration.replication)
    }

    static func add(_ job: FanOutJob) -> RedisCommand {
        RedisCommand("XADD", key: stream, "*", "job", job.payload())
    }

    /// What one ``next(consumer:count:)`` took off the queue.
    struct Batch: Sendable {
        /// The jobs to work.
        var deliveries: [Delivery]
        /// Entries taken, the dead-lettered ones included (0: the queue had nothing for this consumer).
        var taken: Int
    }

    /// New jobs for `consumer`, or, when there are none, jobs other consumers left unacknowledged too long. Entries
    /// that cannot be decoded, and reclaimed jobs delivered too often, are dead-lettered instead of returned.
    func next(consumer: String, count: Int) async throws -> Batch {
        let fresh = try await redis.send(
            RedisCommand("XREADGROUP", "GROUP", Self.group, consumer, "COUNT", count, "STREAMS", Self.stream, ">").withKey(at: 7)
        )
        let entries = fresh.array?.first?.array?.dropFirst().first?.array ?? []
        var batch = try await decode(entries, reclaimed: false)
        // Reclaimed when idle, and on a schedule even when busy, so that a dead instance's jobs never wait behind a
        // steady stream of new ones. Each pass goes on from where the last one stopped.
        guard let start = reclaim.start(idle: entries.isEmpty, every: configuration.reclaimAfter) else { return batch }
        let claimed = try await redis.send(
            RedisCommand(
                "XAUTOCLAIM", key: Self.stream, Self.group, consumer, configuration.reclaimAfter.milliseconds, start, "COUNT", count
            )
        )
        reclaim.advance(to: claimed.array?.first?.string ?? "0-0")
        let reclaimed = try await decode(claimed.array?.dropFirst().first?.array ?? [], reclaimed: true)
        batch.deliveries += reclaimed.deliveries
        batch.taken += reclaimed.taken
        return batch
    }

    private func decode(_ entries: [RedisValue], reclaimed: Bool) async throws -> Batch {
        var deliveries: [Delivery] = []
        var dead: [DeadLetter] = []
        let parsed = entries.compactMap(Self.entry)
        var deliveryCounts: [RedisValue] = []
        if reclaimed, !parsed.isEmpty {
            deliveryCounts = try await redis.pipeline(parsed.map {
                RedisCommand("XPENDING", key: Self.stream, Self.group, $0.id, $0.id, 1)
            })
        }
        for (index, (id, payload)) in parsed.enumerated() {
            let times = deliveryCounts.isEmpty ? 0 : deliveryCounts[index].array?.first?.array?.dropFirst(3).first?.integer ?? 0
            if times > Int64(configuration.maxDeliveries) {
                dead.append(DeadLetter(streamID: id, payload: payload, reason: "delivered \(times) times"))
            } else if let job = try? FanOutJob(payload: ByteBuffer(bytes: payload)) {
                deliveries.append(Delivery(streamID: id, job: job))
            } else {
                dead.append(DeadLetter(streamID: id, payload: payload, reason: "undecodable"))
            }
        }
        try await deadLetter(dead)
        return Batch(deliveries: deliveries, taken: entries.count)
    }

    /// Moves jobs to the dead-letter stream and takes them off the queue.
    func deadLetter(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        _ = try await redis.pipeline(letters.map {
            RedisCommand(
                "XADD", key: Self.deadLetters, "MAXLEN", "~", Self.deadLettersKept, "*", "job", $0.payload, "reason", $0.reason,
                "stream_id", $0.streamID
            )
        })
        try await finish(streamIDs: letters.map(\.streamID))
    }

    /// Acknowledges and deletes finished jobs.
    func finish(_ deliveries: [Delivery]) async throws {
        try await finish(streamIDs: deliveries.map(\.streamID))
    }

    private func finish(streamIDs ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        _ = try await redis.pipeline([
            RedisCommand(arguments: [Array("XACK".utf8), Array(Self.stream.utf8), Array(Self.group.utf8)] + ids.map { Array($0.utf8) }, keyPositions: [1]),
            RedisCommand(arguments: [Array("XDEL".utf8), Array(Self.stream.utf8)] + ids.map { Array($0.utf8) }, keyPositions: [1]),
        ])
    }

    /// Jobs not yet handed out, jobs handed out and not finished, and the age of the oldest unfinished one.
    func stats() async throws -> ReadQueueStats.Response {
        let replies = try await redis.pipeline([
            RedisCommand("XLEN", key: Self.stream),
            RedisCommand("XPENDING", key: Self.stream, Self.group),
        ])
        let length = replies[0].integer ?? 0
        let pendingSummary = replies[1].array ?? []
        let pending = pendingSummary.first?.integer ?? 0
        let oldest = pendingSummary.dropFirst().first?.string
        let oldestMillis = oldest.flatMap { Int64($0.split(separator: "-").first ?? "") }
        let lag = oldestMillis.map { max(0, Int64(Date().timeIntervalSince1970 * 1000) - $0) } ?? 0
        return ReadQueueStats.Response(waiting: max(0, length - pending), pending: pending, lagMillis: lag)
    }

    /// A stream entry's id and its `job` field.
    private static func entry(_ entry: RedisValue) -> (id: String, payload: [UInt8])? {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array,
            fields.count >= 2, let bytes = fields[1].bytes
        else { return nil }
        return (id, bytes)
    }
}

extension RedisCommand {
    /// The same command with argument `index` routed as its key.
    func withKey(at index: Int) -> RedisCommand {
        RedisCommand(arguments: arguments, keyPositions: [index])
    }
}

/// The cursor of one instance's walk over pending fan-out entries (`XAUTOCLAIM`), and when the next step is due.
final class ReclaimSchedule: Sendable {
    private struct State {
        var cursor = "0-0"
        var due = ContinuousClock.now
    }

    private let state = Mutex(State())

    /// The cursor to reclaim from now, or `nil` when the queue is busy and the next scheduled step is not due yet.
    func start(idle: Bool, every interval: Duration) -> String? {
        state.withLock { state in
            guard idle || ContinuousClock.now >= state.due else { return nil }
            state.due = ContinuousClock.now + interval
            return state.cursor
        }
    }

    /// Records where the walk goes on (`0-0` after the last pending entry: start over).
    func advance(to cursor: String) {
        state.withLock { $0.cursor = cursor }
    }
}
