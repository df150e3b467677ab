import HTTPTestSupport
import InfraTestSupport
import Synchronization
import Testing

extension FaultInjectionTests {
    /// The Redis Cluster grows and shrinks while it serves: a fourth master and its replica join
    /// (`scripts/infra redis-grow`), take a quarter of the slots (`redis-cli --cluster reshard`) and give every one back
    /// (`rebalance` with weight 0) before they leave, while tweets are posted and fanned out to 10,000 followers and
    /// home timelines are read. The TimelineService follows `MOVED` and `ASK` (and waits out `TRYAGAIN`) throughout:
    /// every tweet is acknowledged, no request is answered 5xx, and once the fourth master is gone the invariants hold.
    @Test func aFourthRedisMasterTakesAQuarterOfTheSlotsAndGivesThemBackWhileTheSystemServes() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("grow")
            let readers = [try await bench.api.signUp("growr"), try await bench.api.signUp("growr")]
            for reader in readers {
                try await bench.api.follow(author, as: reader)
            }
            let synthetic = try await bench.store.addSyntheticFollowers(to: author.id, count: 10_000)
            try await bench.redis.markHomesBuilt(synthetic)
            let sample = Array(synthetic.shuffled().prefix(200))
            try await bench.invariants([author] + readers).waitUntilHeld(api: bench.api)
            let mastersBefore = try await bench.redis.masters()

            let traffic = ReshardTraffic()
            let system = bench.system
            async let load = traffic.run(system: system, author: author, readers: readers)
            let grown = try await withFault(heal: { try await ScriptsInfra.run("redis-shrink") }) {
                try await ScriptsInfra.run("redis-grow")
                try await ScriptsInfra.run("redis-reshard-to-spare", "4096")
                return try await bench.redis.masters()
            }
            traffic.stop()
            let outcome = try await load

            #expect(grown.count == mastersBefore.count + 1, "a fourth master served slots: \(grown)")
            #expect(try await bench.redis.masters() == mastersBefore, "and left again")
            #expect(outcome.tweets.count >= 5, "tweets were posted throughout: \(outcome.tweets.count)")
            #expect(outcome.homeReads >= 20, "homes were read throughout: \(outcome.homeReads)")
            #expect(outcome.failures.isEmpty, "no 5xx and no refused tweet: \(outcome.failures.prefix(5))")
            var invariants = bench.invariants([author] + readers)
            if let last = outcome.tweets.last {
                invariants.syntheticHomes = Dictionary(uniqueKeysWithValues: sample.map { ($0, last) })
            }
            // A connection of its own: the bench's sat idle through the reshard, longer than the Gateway's idle timeout.
            try await HTTPSConnection.with(port: system.gatewayPort, tls: system.tls) { connection in
                try await invariants.waitUntilHeld(within: .seconds(120), api: TweeterAPI(connection: connection))
            }
        }
    }
}

/// The traffic beside a reshard, on a connection of its own: a tweet by the author every 1.5 s (each fans out to 10,000 homes), and the readers'
/// homes read between them, until ``stop()``.
private final class ReshardTraffic: Sendable {
    struct Outcome: Sendable {
        var tweets: [Int64] = []
        var homeReads = 0
        /// Every answer that was 5xx, or a tweet that was not acknowledged, summarized.
        var failures: [String] = []
    }

    private let stopped = Atomic(false)

    func stop() { stopped.store(true, ordering: .relaxed) }

    func run(system: SystemUnderTest, author: Account, readers: [Account]) async throws -> Outcome {
        try await HTTPSConnection.with(port: system.gatewayPort, tls: system.tls) { connection in
            let api = TweeterAPI(connection: connection)
            var outcome = Outcome()
            var lastTweet = ContinuousClock.now - .seconds(1)
            while !stopped.load(ordering: .relaxed), outcome.tweets.count < 200 {
                if ContinuousClock.now - lastTweet >= .milliseconds(1_500) {
                    lastTweet = .now
                    let reply = try await api.post(TweetText.unique("during the reshard"), as: author)
                    if reply.status == 201, let id = reply.tweetID {
                        outcome.tweets.append(id)
                    } else {
                        outcome.failures.append("tweet: \(reply.summary)")
                    }
                }
                for reader in readers {
                    let reply = try await api.call(.GET, "/api/v1/timelines/home", as: reader)
                    outcome.homeReads += 1
                    if reply.status >= 500 {
                        outcome.failures.append("home of \(reader.username): \(reply.summary)")
                    }
                }
                // Pacing, not a wait for a condition: the traffic reads each home about 20 times a second.
                try await Task.sleep(for: .milliseconds(50))
            }
            return outcome
        }
    }
}
