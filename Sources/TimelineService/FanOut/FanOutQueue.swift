import Foundation
import NIOCore
import Wire

/// The durable queue of ``FanOutJob``s: a Redis stream read through a consumer group.
///
/// A job stays in the stream until a worker acknowledges it after doing the work (then it is deleted, so the stream
/// holds only the backlog). A job claimed by a worker that died is taken over by another after
/// ``TimelineConfiguration/reclaimAfter``. Redis persists the stream (the test and local servers run with AOF).
struct FanOutQueue: Sendable {
    static let stream = "fanout:jobs"
    static let group = "fanout-workers"

    struct Delivery: Sendable {
        let streamID: String
        let job: FanOutJob
    }

    let redis: RedisClient
    let configuration: TimelineConfiguration

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

    /// Appends jobs; refuses with `resource_exhausted` when the backlog is at its limit.
    func enqueue(_ jobs: [FanOutJob]) async throws {
        guard !jobs.isEmpty else { return }
        let length = try await redis.send(RedisCommand("XLEN", key: Self.stream)).integer ?? 0
        guard length + Int64(jobs.count) <= configuration.maxQueueLength else {
            throw WireError(.resourceExhausted, reason: "queue_full", "the fan-out queue is full; retry later")
        }
        _ = try await redis.pipeline(jobs.map(Self.add))
    }

    static func add(_ job: FanOutJob) -> RedisCommand {
        RedisCommand("XADD", key: stream, "*", "job", job.payload())
    }

    /// New jobs for `consumer`, or, when there are none, jobs other consumers left unacknowledged too long.
    func next(consumer: String, count: Int) async throws -> [Delivery] {
        let fresh = try await redis.send(
            RedisCommand("XREADGROUP", "GROUP", Self.group, consumer, "COUNT", count, "STREAMS", Self.stream, ">").withKey(at: 7)
        )
        let entries = fresh.array?.first?.array?.dropFirst().first?.array ?? []
        if !entries.isEmpty {
            return entries.compactMap(Self.delivery)
        }
        let claimed = try await redis.send(
            RedisCommand(
                "XAUTOCLAIM", key: Self.stream, Self.group, consumer, configuration.reclaimAfter.milliseconds, "0-0", "COUNT", count
            )
        )
        return (claimed.array?.dropFirst().first?.array ?? []).compactMap(Self.delivery)
    }

    /// Acknowledges and deletes finished jobs.
    func finish(_ deliveries: [Delivery]) async throws {
        guard !deliveries.isEmpty else { return }
        let ids = deliveries.map(\.streamID)
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

    private static func delivery(_ entry: RedisValue) -> Delivery? {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array,
            fields.count >= 2, let bytes = fields[1].bytes, let job = try? FanOutJob(payload: ByteBuffer(bytes: bytes))
        else { return nil }
        return Delivery(streamID: id, job: job)
    }
}

extension RedisCommand {
    /// The same command with argument `index` routed as its key.
    func withKey(at index: Int) -> RedisCommand {
        RedisCommand(arguments: arguments, keyPositions: [index])
    }
}
