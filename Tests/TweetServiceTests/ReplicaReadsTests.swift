import Foundation
import InfraTestSupport
import Testing
import Wire

@testable import TweetService

/// Lag-tolerant reads on the real streaming replicas that `scripts/infra` starts beside the primaries
/// (`TWEETER_PG_REPLICA_URLS`): served by a replica when it has caught up, by the primary otherwise, and never
/// missing a row committed before the read.
@Suite("Read replicas", .serialized)
struct ReplicaReadsTests {
    static let replicaURLs: [String] = {
        guard let urls = ProcessInfo.processInfo.environment["TWEETER_PG_REPLICA_URLS"], !urls.isEmpty else {
            fatalError("TWEETER_PG_REPLICA_URLS is not set: run the tests through scripts/test, which starts replicas")
        }
        return urls.split(separator: ",").map(String.init)
    }()

    /// A store whose lag-tolerant reads go to the replicas, measured before `body` runs until each replica has caught
    /// up (or 60 s passed): the migrations of a fresh database leave the replicas replaying for a while, and a test
    /// that starts then would find them lagging.
    func withReplicatedStore<Result>(
        _ body: (ShardedDatabase, ReplicaReads) async throws -> Result
    ) async throws -> Result {
        _ = try await TestStore.migrated()
        let reads = ReplicaReads(
            primaries: TestStore.servers, configuration: ReplicaReads.Configuration(replicas: Self.replicaURLs),
            logger: TestStore.logger)
        let database = ShardedDatabase(
            servers: TestStore.servers, shardMap: TestStore.database.shardMap, replicas: reads,
            logger: TestStore.logger)
        do {
            for server in TestStore.servers.indices {
                _ = try await measure(reads, untilServer: server, routes: .replica, within: .seconds(60))
            }
            let result = try await body(database, reads)
            try await database.shutdown()
            try await reads.shutdown()
            return result
        } catch {
            try await database.shutdown()
            try await reads.shutdown()
            throw error
        }
    }

    /// Lag-tolerant reads the primaries answered so far, whatever the reason.
    static func readsServedByPrimaries(_ reads: ReplicaReads) -> Int {
        ReplicaHealth.Reason.allCases.reduce(0) { $0 + reads.readsServedByPrimaries(because: $1) }
    }

    /// Measures the replicas as the monitor does, `between` running before each measurement, until `server`'s reads
    /// route as `expected`; `false` when they do not within `timeout`.
    func measure(
        _ reads: ReplicaReads, untilServer server: Int, routes expected: ReplicaHealth.Route,
        within timeout: Duration = .seconds(10), between: () async throws -> Void = {}
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            try await between()
            await reads.measure()
            if reads.route(onServer: server) == expected { return true }
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// A user on physical server `server`.
    func user(onServer server: Int, _ database: ShardedDatabase) async throws -> UserRecord {
        var name = TestStore.uniqueName("rep")
        while database.shardMap.server(ofShard: database.shardMap.shard(ofUsername: name)) != server {
            name = TestStore.uniqueName("rep")
        }
        return try await AccountStore(database: database, hasher: TestStore.hasher).createUser(
            Credentials(username: name, password: "correct horse"))
    }

    @Test func aCaughtUpReplicaServesReadsThatSeeEveryWriteCommittedBeforeThem() async throws {
        try await withReplicatedStore { database, reads in
            let graph = FollowGraph(database: database)
            let tweets = TweetStore(database: database)
            let author = try await user(onServer: 0, database)
            // Each read comes right after the write it must see: the fence makes the replica wait for it.
            for round in 1...20 {
                await reads.measure()  // as the monitor does every 100 ms
                let follower = try await user(onServer: round % 2, database)
                _ = try await graph.set(FollowEdge(followerID: follower.id, followeeID: author.id), following: true)
                let page = try await graph.page(PageRequest(userID: author.id, limit: 100), followers: true)
                #expect(page.ids.first == follower.id, "round \(round): the newest follower is on the first page")
                let tweet = try await tweets.create(NewTweet(authorID: author.id, text: "round \(round)"))
                #expect(try await tweets.recent(by: [author.id], limit: 1).map(\.id) == [tweet.id])
                let users = try await UserDirectory(database: database).users([follower.id], from: .caughtUpReplica)
                #expect(users.map(\.id) == [follower.id])
            }
            // The other suites load the servers meanwhile, so a replica is sometimes behind its fence for longer than
            // the catch-up wait; those reads go to the primary, as they should.
            let behind = reads.readsServedByPrimaries(because: .behind)
            #expect(
                reads.readsServedByReplicas >= 30,
                "most of 60 reads served by a replica: \(reads.readsServedByReplicas); \(behind) behind")
        }
    }

    @Test func aPausedReplicaIsSkippedOnceMeasuredAndUsedAgainWhenItResumes() async throws {
        try await withReplicatedStore { database, reads in
            let graph = FollowGraph(database: database)
            let author = try await user(onServer: 0, database)
            let replica = PostgresPool(
                configuration: PostgresPool.Configuration(conninfo: Self.replicaURLs[0]), logger: TestStore.logger)
            try await replica.withConnection { try $0.query("SELECT pg_wal_replay_pause()") }
            do {
                // Writes move the primary on while its replica stands still; measured as the monitor does, it is
                // lagging past the bound of one second a second or so later.
                var follower = try await user(onServer: 1, database)
                var following = false
                let lagging = try await measure(reads, untilServer: 0, routes: .primary(.lagging)) {
                    following.toggle()
                    let edge = FollowEdge(followerID: follower.id, followeeID: author.id)
                    _ = try await graph.set(edge, following: following)
                }
                #expect(lagging, "skipped within ten seconds")
                let (byReplica, byPrimary) = (reads.readsServedByReplicas, Self.readsServedByPrimaries(reads))
                for _ in 0..<10 {
                    _ = try await graph.set(FollowEdge(followerID: follower.id, followeeID: author.id), following: true)
                    let page = try await graph.page(PageRequest(userID: author.id, limit: 10), followers: true)
                    #expect(page.ids.first == follower.id)
                    follower = try await user(onServer: 1, database)
                }
                // By the primary, for whatever reason it is skipped: lagging while its measurement is fresh, unmeasured
                // once it is older than half a second (no monitor runs here, and a loaded machine is slow).
                #expect(Self.readsServedByPrimaries(reads) - byPrimary == 10, "all ten went to the primary")
                #expect(reads.readsServedByReplicas == byReplica, "none to the paused replica")
            } catch {
                try await replica.withConnection { try $0.query("SELECT pg_wal_replay_resume()") }
                throw error
            }
            try await replica.withConnection { try $0.query("SELECT pg_wal_replay_resume()") }
            try await replica.shutdown()
            #expect(try await measure(reads, untilServer: 0, routes: .replica), "measured as caught up again")
            let byReplica = reads.readsServedByReplicas
            _ = try await graph.page(PageRequest(userID: author.id, limit: 10), followers: true)
            #expect(reads.readsServedByReplicas == byReplica + 1, "the resumed replica serves again")
        }
    }

    @Test func aStoppedReplicaSendsItsReadsToThePrimaryWithoutAnError() async throws {
        try await withReplicatedStore { database, reads in
            let graph = FollowGraph(database: database)
            let author = try await user(onServer: 1, database)
            let follower = try await user(onServer: 0, database)
            _ = try await graph.set(FollowEdge(followerID: follower.id, followeeID: author.id), following: true)
            try await ScriptsInfra.run("pg-replica-stop", "2")
            do {
                // Measured as up a moment ago (or, on a slow machine, no longer measured at all): a read that finds
                // it down, and every one after, is answered by the primary, with no error.
                let (byReplica, byPrimary) = (reads.readsServedByReplicas, Self.readsServedByPrimaries(reads))
                for _ in 0..<5 {
                    let page = try await graph.page(PageRequest(userID: author.id, limit: 10), followers: true)
                    #expect(page.ids == [follower.id])
                }
                #expect(reads.readsServedByReplicas == byReplica, "none was served by the stopped replica")
                #expect(Self.readsServedByPrimaries(reads) - byPrimary == 5, "the primary answered all five")
                #expect(
                    reads.readsServedByPrimaries(because: .failed) <= 1, "at most one read tried the replica first")
                await reads.measure()
                #expect(reads.route(onServer: 1) == .primary(.down))
            } catch {
                try await ScriptsInfra.run("pg-replica-start", "2")
                throw error
            }
            try await ScriptsInfra.run("pg-replica-start", "2")
            // Once the replica pool's pause after a failed connect has passed.
            #expect(try await measure(reads, untilServer: 1, routes: .replica))
        }
    }
}
