import Testing
import TimelineService
import Wire

extension FaultInjectionTests {
    /// A Redis master that holds fan-out streams refuses every write (`maxmemory 1`) for 10 seconds while tweets are
    /// posted: posts still answer 201 (they commit in PostgreSQL, and the outbox keeps the events whose delivery the
    /// master refused, since the TimelineService refuses `deliver_events` rather than lose them); once the master
    /// accepts writes again, everything converges.
    @Test func aMasterRefusingWritesDelaysTheFanOutAndLosesNothing() async throws {
        try await withSystem { bench in
            let authors = [try await bench.api.signUp("oom"), try await bench.api.signUp("oom")]
            let reader = try await bench.api.signUp("oomr")
            for author in authors {
                try await bench.api.follow(author, as: reader)
                _ = try await bench.api.tweet(TweetText.unique("before the refusal"), as: author)
            }
            try await bench.invariants(authors + [reader]).waitUntilHeld(api: bench.api)

            // Each delivery is queued on a stream picked by a hash of its first event, and this stream's master
            // holds about a third of the streams, so some of the ~50 deliveries below land on it.
            let stream = FanOutStreams.keys[0]
            let master = try await masterHolding(stream, redis: bench.redis)
            _ = try await bench.redis.send(["CONFIG", "SET", "maxmemory", "1"], to: master)
            let posted = try await withFault(heal: {
                _ = try await bench.redis.send(["CONFIG", "SET", "maxmemory", "0"], to: master)
            }) {
                // A key in the stream's slot (same hash tag), to see the refusal without touching the stream.
                let probe = await Result {
                    try await bench.redis.send(["SET", RedisArgument(stream + "probe"), "x"], to: master)
                }
                #expect(probe.failureText.contains("OOM"), "the master refuses writes: \(probe)")

                var posted: [Int64] = []
                let end = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < end {
                    let author = authors[posted.count % authors.count]
                    let reply = try await bench.api.post(TweetText.unique("while refused"), as: author)
                    #expect(
                        reply.status == 201, "a post while Redis refuses writes is still acknowledged: \(reply.summary)"
                    )
                    if let id = reply.tweetID { posted.append(id) }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let shards = Set(authors.map { TweeterID.shard(of: $0.id) })
                let waiting = try await bench.store.nonEmptyOutboxes().filter { shards.contains($0.key) }.values
                let held = waiting.reduce(0, +)
                // The queue is spread over every master: deliveries that touch the refusing master's streams fail
                // and stay in the outbox; the others go through. None is lost either way (the invariants below).
                #expect(held >= 1, "the outboxes keep the events the refusing master did not take (hold \(held))")
                return posted
            }
            #expect(posted.count >= 10)
            try await bench.invariants(authors + [reader]).waitUntilHeld(api: bench.api)
        }
    }
}

/// The `host:port` of the master serving `key`'s slot (`CLUSTER KEYSLOT`, then `CLUSTER SLOTS`).
func masterHolding(_ key: String, redis: RedisProbe) async throws -> String {
    guard let slot = try await redis.integer(["CLUSTER", "KEYSLOT", RedisArgument(key)]) else {
        throw FaultFailure("CLUSTER KEYSLOT \(key) answered no integer")
    }
    for range in try await redis.send(["CLUSTER", "SLOTS"]).array ?? [] {
        guard let fields = range.array, fields.count >= 3, let first = fields[0].integer, let last = fields[1].integer,
            let node = fields[2].array, node.count >= 2, let host = node[0].string, let port = node[1].integer
        else { continue }
        if (first...last).contains(slot) { return "\(host):\(port)" }
    }
    throw FaultFailure("no master serves slot \(slot) of \(key)")
}

extension Result where Failure == any Error {
    /// Runs `body` and keeps its outcome, to look at a failure that is expected.
    init(_ body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }

    /// The failure's description; empty for a success.
    var failureText: String {
        if case .failure(let error) = self { return "\(error)" }
        return ""
    }
}
