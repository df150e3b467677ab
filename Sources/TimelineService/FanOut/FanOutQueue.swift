import Foundation
import NIOCore
import RedisCluster
import Wire

/// The durable queue of ``FanOutJob``s: the Redis streams of ``FanOutStreams``, each read through the same consumer
/// group.
///
/// A job stays in its stream until a worker acknowledges it after doing the work (then it is deleted, so the streams
/// hold only the backlog). A job claimed by a worker that died is taken over by another after
/// ``TimelineConfiguration/reclaimAfter``. Redis persists the streams (AOF), and with
/// ``TimelineConfiguration/replication`` nothing is acknowledged before a replica holds it.
///
/// A job that can never succeed is parked in the dead-letter stream (`fanout:dead`, newest 10,000 kept) with its
/// reason, so that it does not come back every ``TimelineConfiguration/reclaimAfter`` forever: one that cannot be
/// decoded, one whose work failed for good (see ``FanOutWorkers``), and one delivered more than
/// ``TimelineConfiguration/maxDeliveries`` times.
struct FanOutQueue: Sendable {
    static let deadLetters = "fanout:dead"
    static let deadLettersKept = 10_000

    struct Delivery: Sendable {
        let stream: String
        let streamID: String
        let job: FanOutJob
    }

    /// A job taken off the queue for good, and why.
    struct DeadLetter: Sendable {
        let stream: String
        let streamID: String
        let payload: [UInt8]
        let reason: String
    }

    /// What one ``next(consumer:count:)`` took off the queue.
    struct Batch: Sendable {
        /// The jobs to work.
        var deliveries: [Delivery] = []
        /// Entries taken, the dead-lettered ones included (0: the queue had nothing for this consumer).
        var taken = 0
    }

    let redis: RedisClient
    let configuration: TimelineConfiguration
    /// Which streams this instance reads next, and where its walk over the pending entries stands.
    let schedule = FanOutSchedule(streams: FanOutStreams.keys)
    /// Wakes this instance's idle workers when work is queued here.
    let wakeUps = FanOutWakeUps()
    /// The queue's length as last read, for the bound on enqueuing.
    let length = FanOutQueueLength()

    /// Creates the consumer group on every stream that lacks it.
    func prepare() async throws {
        for stream in FanOutStreams.keys {
            try await createGroup(on: stream)
        }
    }

    private func createGroup(on stream: String) async throws {
        do {
            _ = try await redis.send(
                RedisCommand("XGROUP", "CREATE", stream, FanOutStreams.group, "0", "MKSTREAM").withKey(at: 2))
        } catch  where error.message.contains("BUSYGROUP") {
            return
        }
    }

    /// Appends jobs, after `writes` (tombstones that must hold before the jobs are acknowledged), and returns once
    /// Redis accepted all of it and, with ``TimelineConfiguration/replication``, a replica holds it.
    ///
    /// The bound is held against the queue's length as read at most ``FanOutQueueLength/maxAge`` ago plus what this
    /// instance queued since (``FanOutQueueLength``), so most deliveries go straight to their `XADD`.
    /// - Throws: `resource_exhausted` when the backlog is at its limit; ``RedisError`` when Redis refused or could not
    ///   replicate any of it (nothing may be acknowledged then).
    func enqueue(_ jobs: [FanOutJob], after writes: [RedisCommand] = []) async throws {
        guard !jobs.isEmpty else { return }
        let queued = try await currentLength()
        guard queued + Int64(jobs.count) <= configuration.maxQueueLength else {
            throw WireError(.resourceExhausted, reason: "queue_full", "the fan-out queue is full; retry later")
        }
        _ = try await redis.pipeline(writes + jobs.map(Self.add), replicatedTo: configuration.replication)
        length.add(jobs.count)
        wakeUps.signal()
    }

    /// The queue's length as ``length`` estimates it, or, when its reading is too old, every stream's length read now
    /// (and recorded).
    private func currentLength() async throws -> Int64 {
        if let estimate = length.estimate() {
            return estimate
        }
        let readAt = ContinuousClock.now
        let lengths = try await redis.pipeline(FanOutStreams.keys.map { RedisCommand("XLEN", key: $0) })
        let sum = lengths.reduce(0) { $0 + ($1.integer ?? 0) }
        length.record(sum, readAt: readAt)
        return sum
    }

    static func add(_ job: FanOutJob) -> RedisCommand {
        RedisCommand("XADD", key: FanOutStreams.key(for: job), "*", "job", job.payload())
    }

    /// How long the marker of a queued chunk keeps a retried job from queuing the same chunk again.
    static let chunkMarkerTTLSeconds = 3_600

    /// Queues a chunk of followers at most once: a job that queued its next chunk and then failed is retried (every
    /// ``TimelineConfiguration/reclaimAfter``), and queuing the chunk again on every retry would start one more copy
    /// of the rest of the fan-out each time, multiplying the work for as long as the fault lasts. A marker beside the
    /// stream (same hash tag, so one script does both atomically) records that the chunk was queued.
    static func addOnce(_ job: FanOutJob) -> RedisCommand {
        let stream = FanOutStreams.key(for: job)
        let marker: String
        switch job.work {
        case .events: return add(job)
        case .followerChunk(let tweetID, _, let cursor, let remove):
            marker = "\(stream):queued:\(tweetID):\(cursor.map(String.init) ?? "first"):\(remove ? "remove" : "add")"
        case .followerRange(let tweetID, _, let cursor, _, let remove):
            marker =
                "\(stream):queued:\(tweetID):\(cursor.map(String.init) ?? "first"):\(remove ? "remove" : "add"):range"
        }
        return RedisCommand(
            arguments: [
                Array("EVAL".utf8), Array(queueOnceScript.utf8), Array("2".utf8), Array(stream.utf8),
                Array(marker.utf8),
                Array(job.payload().readableBytesView), Array(String(chunkMarkerTTLSeconds).utf8),
            ],
            keyPositions: [3, 4]
        )
    }

    /// `XADD KEYS[1] * job ARGV[1]` unless `KEYS[2]` is set; sets it (for `ARGV[2]` seconds) when it adds.
    private static let queueOnceScript = """
        if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
            return redis.call('XADD', KEYS[1], '*', 'job', ARGV[1])
        end
        return false
        """

    /// Up to `count` new jobs for `consumer` (from the next streams in turn, at most `count` of them, an equal share
    /// from each), and, when a sweep is due, jobs other consumers left unacknowledged too long, from every stream. A
    /// stream whose master cannot be reached is skipped (its jobs wait for its replica to take over); the others go
    /// on. Entries that cannot be decoded, and reclaimed jobs delivered too often, are dead-lettered instead of
    /// returned.
    /// - Throws: ``RedisError`` when no stream could be read.
    func next(consumer: String, count: Int) async throws -> Batch {
        let streams = schedule.streamsToRead(count)
        let perStream = max(1, count / max(1, streams.count))
        let reads = await eachStream(streams) { stream in
            RedisCommand(
                "XREADGROUP", "GROUP", FanOutStreams.group, consumer, "COUNT", perStream, "STREAMS", stream, ">"
            )
            .withKey(at: 7)
        }
        guard reads.contains(where: { $0.reply != nil }) else {
            throw RedisError(.unavailable, "no fan-out stream could be read")
        }
        var batch = Batch()
        for read in reads {
            let entries = read.reply?.array?.first?.array?.dropFirst().first?.array ?? []
            if !entries.isEmpty {
                batch.add(try await decode(entries, stream: read.stream, reclaimed: false))
            }
        }
        guard let sweep = schedule.sweep(idle: batch.taken == 0, reclaimAfter: configuration.reclaimAfter) else {
            return batch
        }
        let cursors = Dictionary(uniqueKeysWithValues: sweep.map { ($0.stream, $0.cursor) })
        let claims = await eachStream(sweep.map(\.stream)) { stream in
            RedisCommand(
                "XAUTOCLAIM", key: stream, FanOutStreams.group, consumer, configuration.reclaimAfter.milliseconds,
                cursors[stream] ?? "0-0", "COUNT", count
            )
        }
        for claim in claims {
            guard let reply = claim.reply else { continue }
            schedule.advance(claim.stream, to: reply.array?.first?.string ?? "0-0")
            batch.add(
                try await decode(reply.array?.dropFirst().first?.array ?? [], stream: claim.stream, reclaimed: true))
        }
        return batch
    }

    /// One stream's reply; `nil` when its master could not be reached or refused.
    private struct StreamReply: Sendable {
        let stream: String
        let reply: RedisValue?
    }

    /// Sends one command per stream, all at once, and collects what each answered.
    private func eachStream(
        _ streams: [String], _ command: @escaping @Sendable (String) -> RedisCommand
    ) async -> [StreamReply] {
        let redis = self.redis
        return await withTaskGroup(of: StreamReply.self) { group in
            for stream in streams {
                group.addTask { StreamReply(stream: stream, reply: try? await redis.send(command(stream))) }
            }
            var replies: [StreamReply] = []
            for await reply in group {
                replies.append(reply)
            }
            return replies
        }
    }

    private func decode(_ entries: [RedisValue], stream: String, reclaimed: Bool) async throws -> Batch {
        var batch = Batch(taken: entries.count)
        var dead: [DeadLetter] = []
        let parsed = entries.compactMap(Self.entry)
        var deliveryCounts: [RedisValue] = []
        if reclaimed, !parsed.isEmpty {
            deliveryCounts = try await redis.pipeline(
                parsed.map {
                    RedisCommand("XPENDING", key: stream, FanOutStreams.group, $0.id, $0.id, 1)
                })
        }
        for (index, (id, payload)) in parsed.enumerated() {
            let times =
                deliveryCounts.isEmpty ? 0 : deliveryCounts[index].array?.first?.array?.dropFirst(3).first?.integer ?? 0
            if times > Int64(configuration.maxDeliveries) {
                dead.append(
                    DeadLetter(stream: stream, streamID: id, payload: payload, reason: "delivered \(times) times"))
            } else if let job = try? FanOutJob(payload: ByteBuffer(bytes: payload)) {
                batch.deliveries.append(Delivery(stream: stream, streamID: id, job: job))
            } else {
                dead.append(DeadLetter(stream: stream, streamID: id, payload: payload, reason: "undecodable"))
            }
        }
        try await deadLetter(dead)
        return batch
    }

    /// Moves jobs to the dead-letter stream and takes them off the queue.
    func deadLetter(_ letters: [DeadLetter]) async throws {
        try await park(letters)
        try await finish(letters.map { ($0.stream, $0.streamID) })
    }

    /// Writes jobs, or parts of them, to the dead-letter stream, leaving their entries in the queue (for the caller to
    /// finish once the rest of each entry is done).
    func park(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        _ = try await redis.pipeline(
            letters.map {
                RedisCommand(
                    "XADD", key: Self.deadLetters, "MAXLEN", "~", Self.deadLettersKept, "*", "job", $0.payload,
                    "reason", $0.reason,
                    "stream", $0.stream, "stream_id", $0.streamID
                )
            })
    }

    /// Renews `consumer`'s claim on each delivery it still owns (its idle time starts again, so no sweep takes it)
    /// and returns those; deliveries another consumer has reclaimed meanwhile are left out, for that one to work.
    func renewClaims(_ deliveries: [Delivery], consumer: String) async throws -> [Delivery] {
        guard !deliveries.isEmpty else { return [] }
        let owners = try await redis.pipeline(
            deliveries.map {
                RedisCommand("XPENDING", key: $0.stream, FanOutStreams.group, $0.streamID, $0.streamID, 1)
            })
        let owned = zip(deliveries, owners).compactMap { delivery, owner in
            owner.array?.first?.array?.dropFirst().first?.string == consumer ? delivery : nil
        }
        _ = try await redis.pipeline(
            owned.map {
                RedisCommand("XCLAIM", key: $0.stream, FanOutStreams.group, consumer, 0, $0.streamID, "JUSTID")
            })
        return owned
    }

    /// Acknowledges and deletes finished jobs.
    func finish(_ deliveries: [Delivery]) async throws {
        try await finish(deliveries.map { ($0.stream, $0.streamID) })
    }

    private func finish(_ entries: [(stream: String, id: String)]) async throws {
        guard !entries.isEmpty else { return }
        let byStream = Dictionary(grouping: entries, by: \.stream)
        _ = try await redis.pipeline(
            byStream.flatMap { stream, entries in
                let ids = entries.map { Array($0.id.utf8) }
                return [
                    RedisCommand(
                        arguments: [Array("XACK".utf8), Array(stream.utf8), Array(FanOutStreams.group.utf8)] + ids,
                        keyPositions: [1]),
                    RedisCommand(arguments: [Array("XDEL".utf8), Array(stream.utf8)] + ids, keyPositions: [1]),
                ]
            })
    }

    /// A stream entry's id and its `job` field.
    private static func entry(_ entry: RedisValue) -> (id: String, payload: [UInt8])? {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array,
            fields.count >= 2, let bytes = fields[1].bytes
        else { return nil }
        return (id, bytes)
    }
}

extension FanOutQueue.Batch {
    mutating func add(_ other: FanOutQueue.Batch) {
        deliveries += other.deliveries
        taken += other.taken
    }
}

extension RedisCommand {
    /// The same command with argument `index` routed as its key.
    func withKey(at index: Int) -> RedisCommand {
        RedisCommand(arguments: arguments, keyPositions: [index])
    }
}
