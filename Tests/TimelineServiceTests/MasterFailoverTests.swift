import Foundation
import InfraTestSupport
import Testing
import TweetService
import Wire

@testable import RedisCluster
@testable import TimelineService

#if canImport(Glibc)
    import Glibc
#endif

extension RedisLiveTests {
    /// A Redis master that crashes loses nothing that was acknowledged: events are acknowledged only once a replica holds
    /// them (`WAIT`), so what the crash takes was never acknowledged and is still in the TweetService's outbox.
    @Suite("Master failover")
    struct MasterFailoverTests {
        private static func role(of port: Int) async throws -> String {
            try await LiveRedis.withNodeClient(RedisNodeAddress(host: "127.0.0.1", port: port)) { client in
                let info = try await client.send(RedisCommand("INFO", "replication")).string ?? ""
                return info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("role:") }.map {
                    String($0.dropFirst(5))
                } ?? "?"
            }
        }

        private static func replica(of master: RedisNodeAddress) throws -> Int {
            let masters = try LiveRedis.seeds().map(\.port)
            let replicas = replicaPorts()
            guard let index = masters.firstIndex(of: master.port), index < replicas.count else {
                throw WireError(.internal, "no replica port for \(master): run the tests through scripts/test")
            }
            return replicas[index]
        }

        /// Every replica port, in the order of the masters they replicate.
        private static func replicaPorts() -> [Int] {
            let ports = ProcessInfo.processInfo.environment["TWEETER_REDIS_REPLICA_PORTS"] ?? ""
            return ports.split(separator: ",").compactMap { Int($0) }
        }

        /// The length of every fan-out stream, in the order of ``FanOutStreams/keys``.
        private static func streamLengths(_ redis: RedisClient) async throws -> [Int64] {
            var lengths: [Int64] = []
            for key in FanOutStreams.keys {
                lengths.append(try await redis.send(RedisCommand("XLEN", key: key)).integer ?? 0)
            }
            return lengths
        }

        /// A replica holds a full home timeline (800 entries) as compactly as its master (the same encoding, about the
        /// same bytes), so that a promoted replica serves it without growing (docs/timelines.md, "Keys and encoding").
        @Test func everyReplicaKeepsFullHomesAsCompactlyAsItsMaster() async throws {
            // Written through the service's own command (800 into an empty list: one push), confirmed by a replica.
            let replicas = Self.replicaPorts()
            try #require(replicas.count == (try LiveRedis.seeds().count), "one replica a master: run scripts/test")
            try await LiveRedis.withClusterClient { redis in
                let prefix = LiveRedis.uniquePrefix("replica-homes")
                let keys = (0..<30).map { "\(prefix){\($0)}" }
                let base = TweeterID.make(unixMillis: TweeterID.epochMillis + 3_000_000, shard: 2, sequence: 0)
                let ids = (0..<800).map { base + Int64($0) }
                _ = try await redis.pipeline(
                    keys.flatMap { TimelineCommands.add(ids, to: $0, capacity: 800, trimSlack: 0) },
                    replicatedTo: RedisReplication(replicas: 1, timeout: .seconds(5)))
                func usage(_ key: String) -> [RedisCommand] {
                    [
                        RedisCommand("OBJECT", "ENCODING", key).routed(byArgument: 2),
                        RedisCommand("MEMORY", "USAGE", key, "SAMPLES", 0).routed(byArgument: 2),
                    ]
                }
                var compared = 0
                for share in try await redis.sharesByNode(keys, key: { $0 }) {
                    let port = try Self.replica(of: share.node)
                    let onMaster = try await redis.pipeline(share.items.flatMap(usage))
                    let onReplica = try await LiveRedis.withNodeClient(RedisNodeAddress(host: "127.0.0.1", port: port))
                    {
                        _ = try await $0.send(RedisCommand("READONLY"))
                        return try await $0.pipeline(share.items.flatMap(usage))
                    }
                    for index in share.items.indices {
                        compared += 1
                        #expect(onReplica[2 * index].string == onMaster[2 * index].string, "replica \(port): encoding")
                        let replicaBytes = onReplica[2 * index + 1].integer ?? .max
                        let masterBytes = onMaster[2 * index + 1].integer ?? 0
                        #expect(
                            replicaBytes <= masterBytes + masterBytes / 10, "replica \(port): \(replicaBytes) bytes")
                    }
                }
                #expect(compared == keys.count)
                _ = try await redis.pipeline(keys.map { RedisCommand("DEL", key: $0) })
            }
        }

        /// Every replica is paused, so the events delivered meanwhile reach only their masters and no `WAIT` succeeds;
        /// then a master that holds the delivery's queue entry is killed and its paused replica takes over without it.
        /// Nothing was acknowledged, so the outbox delivers the events again, and every tweet reaches its followers.
        @Test func aMasterKilledBeforeItsReplicaHadTheEventsLosesNoAcknowledgedEvent() async throws {
            var configuration = TimelineConfiguration()
            configuration.reclaimAfter = .seconds(1)
            configuration.replication = RedisReplication(replicas: 1, timeout: .milliseconds(500))
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                let followers = try await addSyntheticFollowers(to: author, count: 2_000, database: world.database)
                try await markHomesBuilt(followers, redis: world.redis)
                try await world.settle()
                let shard = TweeterID.shard(of: author.id)
                let outboxRows = {
                    try await world.database.withShard(shard) { connection, schema in
                        try connection.query("SELECT count(*) AS n FROM \(schema).outbox")[0].int64("n")
                    }
                }

                let paused = Self.replicaPorts()
                try #require(paused.count == (try LiveRedis.seeds().count), "one replica a master: run scripts/test")
                for port in paused { try RedisNodeProcesses.signal(SIGSTOP, port: port) }
                var stillPaused = Set(paused)
                defer { for port in stillPaused { try? RedisNodeProcesses.signal(SIGCONT, port: port) } }

                let before = try await Self.streamLengths(world.redis)
                var tweets: [Int64] = []
                for index in 0..<16 {
                    tweets.append(try await world.tweet(author, "outlives its master \(index)").id)
                }
                await world.relay.drain(shards: [shard])
                #expect(try await outboxRows() >= tweets.count, "no replica confirmed, so nothing was acknowledged")
                let after = try await Self.streamLengths(world.redis)
                let queuedOn = try #require(
                    FanOutStreams.keys.indices.first { after[$0] > before[$0] }.map { FanOutStreams.keys[$0] },
                    "the delivery was queued on some stream")
                let victim = try #require(
                    try await world.redis.currentTopology().node(serving: HashSlot(key: queuedOn)))
                let replicaPort = try Self.replica(of: victim)
                for port in paused where port != replicaPort {
                    try RedisNodeProcesses.signal(SIGCONT, port: port)
                    stillPaused.remove(port)
                }
                try RedisNodeProcesses.signal(SIGKILL, port: victim.port)
                try RedisNodeProcesses.signal(SIGCONT, port: replicaPort)
                stillPaused.remove(replicaPort)

                // The replica is elected; the killed master comes back as its replica, so that WAIT can succeed again.
                try await eventually("the replica's promotion") {
                    try await Self.role(of: replicaPort) == "master"
                }
                try await ScriptsInfra.run("redis-start", String(victim.port))
                try await world.redis.refreshTopology()
                try await eventually("delivery and fan-out after the failover", seconds: 90) {
                    try await world.settle()
                    let stats = try await world.service.queue.stats()
                    return try await outboxRows() == 0 && stats.waiting == 0 && stats.pending == 0
                }
                let profile = try await world.timelines.call(
                    ReadHomeTimeline.self, TimelineQuery(userID: author.id, limit: 50))
                #expect(Set(tweets).isSubset(of: profile.tweets.map(\.id)), "every tweet is on the author's own home")
                for tweet in tweets {
                    try await expectEveryHome(of: followers, holds: tweet, redis: world.redis)
                }

                // Give the old master its role back, so that the cluster is laid out as scripts/infra made it.
                _ = try await LiveRedis.withNodeClient(victim) {
                    try await $0.send(RedisCommand("CLUSTER", "FAILOVER"))
                }
                try await eventually("the old master's return") {
                    let roles = (try await Self.role(of: victim.port), try await Self.role(of: replicaPort))
                    return roles == ("master", "slave")
                }
                try await world.redis.refreshTopology()
            }
        }
    }
}

extension RedisCommand {
    /// The same command routed by its argument `index` (for `OBJECT ENCODING key`, `MEMORY USAGE key`).
    fileprivate func routed(byArgument index: Int) -> RedisCommand {
        RedisCommand(arguments: arguments, keyPositions: [index])
    }
}
