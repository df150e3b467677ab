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
        /// Polls `condition` every 200 ms for up to `seconds`; records an issue naming `what` if it never holds.
        private static func eventually(_ what: String, seconds: Int = 60, _ condition: () async throws -> Bool)
            async throws
        {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                if (try? await condition()) == true { return }
                try await Task.sleep(for: .milliseconds(200))
            }
            Issue.record("\(what) did not happen within \(seconds) s")
        }

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
            let replicas = (ProcessInfo.processInfo.environment["TWEETER_REDIS_REPLICA_PORTS"] ?? "").split(
                separator: ","
            ).compactMap { Int($0) }
            guard let index = masters.firstIndex(of: master.port), index < replicas.count else {
                throw WireError(.internal, "no replica port for \(master): run the tests through scripts/test")
            }
            return replicas[index]
        }

        /// The replica of one master is paused, so the events delivered meanwhile reach only the master;
        /// then the master is killed and the paused replica takes over without them. They were never acknowledged (the
        /// `WAIT` timed out), so the outbox delivers them again, and every tweet reaches its followers.
        @Test func aMasterKilledBeforeItsReplicaHadTheEventsLosesNoAcknowledgedEvent() async throws {
            var configuration = TimelineConfiguration()
            configuration.reclaimAfter = .seconds(1)
            configuration.replication = RedisReplication(replicas: 1, timeout: .milliseconds(500))
            try await TimelineWorld.with(configuration) { world in
                let author = try await world.makeUser()
                let followers = try await addSyntheticFollowers(to: author, count: 2_000, database: world.database)
                try await markHomesBuilt(followers, redis: world.redis)
                try await world.settle()
                let victim = try #require(
                    try await world.redis.currentTopology().node(serving: HashSlot(key: FanOutStreams.keys[0])))
                let replicaPort = try Self.replica(of: victim)
                let shard = TweeterID.shard(of: author.id)
                let outboxRows = {
                    try await world.database.withShard(shard) { connection, schema in
                        try connection.query("SELECT count(*) AS n FROM \(schema).outbox")[0].int64("n")
                    }
                }

                try RedisNodeProcesses.signal(SIGSTOP, port: replicaPort)
                var tweets: [Int64] = []
                do {
                    // Consecutive events take every stream in turn, so this delivery needs the victim's streams too.
                    for index in 0..<(2 * FanOutStreams.keys.count) {
                        tweets.append(try await world.tweet(author, "outlives its master \(index)").id)
                    }
                    await world.relay.drain(shards: [shard])
                    #expect(try await outboxRows() >= tweets.count, "no replica confirmed, so nothing was acknowledged")
                    try RedisNodeProcesses.signal(SIGKILL, port: victim.port)
                } catch {
                    try? RedisNodeProcesses.signal(SIGCONT, port: replicaPort)
                    throw error
                }
                try RedisNodeProcesses.signal(SIGCONT, port: replicaPort)

                // The replica is elected; the killed master comes back as its replica, so that WAIT can succeed again.
                try await Self.eventually("the replica's promotion") {
                    try await Self.role(of: replicaPort) == "master"
                }
                try await ScriptsInfra.run("redis-start", String(victim.port))
                try await world.redis.refreshTopology()
                try await Self.eventually("delivery and fan-out after the failover", seconds: 90) {
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
                try await Self.eventually("the old master's return") {
                    let roles = (try await Self.role(of: victim.port), try await Self.role(of: replicaPort))
                    return roles == ("master", "slave")
                }
                try await world.redis.refreshTopology()
            }
        }
    }
}
