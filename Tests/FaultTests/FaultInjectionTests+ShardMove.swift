import Foundation
import HTTPTestSupport
import Synchronization
import Testing
import TweetService
import Wire

extension FaultInjectionTests {
    /// A logical shard moves to the spare server (`tweet-service move-shard`) while its users and others post and
    /// read: every post is acknowledged (no error, the freeze only delays), the shard's rows, counters and events are
    /// all on the new server and none is left on the old one, new ids still carry the shard, and the invariants hold.
    @Test func aShardMovesToANewServerWhileItsUsersPostAndNothingIsLost() async throws {
        let databases = try await MoveDatabases.fresh()
        let store = try await databases.truthStore()
        try await withSystem(
            postgres: databases.postgresArgument, tweetServiceArguments: MoveDatabases.serviceArguments, store: store
        ) { bench in
            let moving = 1
            let movers = [
                try await bench.api.signUp(username: store.username("mov", onShard: moving)),
                try await bench.api.signUp(username: store.username("mov", onShard: moving)),
            ]
            let others = [
                try await bench.api.signUp(username: store.username("stay", onShard: 2)),
                try await bench.api.signUp(username: store.username("stay", onShard: 6)),
            ]
            let reader = try await bench.api.signUp(username: store.username("rdr", onShard: moving))
            for author in movers + others {
                try await bench.api.follow(author, as: reader)
            }
            try await bench.api.follow(others[0], as: movers[0])
            let users = movers + others + [reader]

            let traffic = MoveTraffic()
            let system = bench.system
            async let load = traffic.run(system: system, authors: movers + others, reader: reader)
            // Traffic before the move starts and after it ends: a round of posts by every author each time.
            #expect(try await traffic.waitForPosts(5), "traffic runs before the move")
            let output = try await MoveDatabases.moveShard(moving, to: databases.spare, in: databases, bench: bench)
            #expect(try await traffic.waitForPosts(traffic.posts + 5), "traffic runs after the move")
            traffic.stop()
            let outcome = try await load

            #expect(outcome.failures.isEmpty, "no request failed: \(outcome.failures.prefix(5))")
            #expect(outcome.tweets.count >= 10, "tweets were posted throughout: \(outcome.tweets.count)")
            print("shard move under traffic: slowest post to the moving shard \(outcome.slowestMovingPost); \(output)")
            try await MoveDatabases.expectMoved(shard: moving, to: 2, databases: databases, store: store)
            let after = try await bench.api.tweet(TweetText.unique("after the move"), as: movers[0])
            #expect(TweeterID.shard(of: after) == moving, "ids made after the move still carry the shard")
            try await bench.invariants(users).waitUntilHeld(api: bench.api)
            let stored = try await store.tweets(of: movers.map(\.id)).values.flatMap { $0 }
            let posted = outcome.tweets.filter { movers.map(\.id).contains($0.author) }.map(\.id) + [after]
            #expect(Set(stored) == Set(posted), "exactly the acknowledged tweets, none lost or doubled")
        }
    }

    /// The freeze waits until the new server has applied every write the old one committed: here the copy on the
    /// new server is held back (its `tweets` table locked, so the subscription cannot apply) while the shard's user
    /// posts, through the first freezes. They roll back (the shard serves on), and the one after the hold ends
    /// moves the shard with every post. A freeze that did not wait would lose the posts made during the hold.
    @Test func theFreezeWaitsUntilTheNewServerHasAppliedEveryWrite() async throws {
        let databases = try await MoveDatabases.fresh()
        let store = try await databases.truthStore()
        try await withSystem(
            postgres: databases.postgresArgument, tweetServiceArguments: MoveDatabases.serviceArguments, store: store
        ) { bench in
            let moving = 4
            let author = try await bench.api.signUp(username: store.username("held", onShard: moving))
            var tweets = [try await bench.api.tweet(TweetText.unique("before"), as: author)]
            let mover = try await MoveDatabases.moveProcess(
                moving, to: databases.spare, in: databases, bench: bench, arguments: ["--pause-after", "copied:3"])
            let copied = try await poll(within: .seconds(60)) {
                ((try? String(contentsOfFile: mover.logPath, encoding: .utf8)) ?? "").contains("copied")
            }
            #expect(copied, "the copy finished\n\(mover.logTail())")
            let tweetsTable = "\(ShardMap.schema(ofShard: moving)).tweets"
            async let hold: Void = MoveDatabases.run(on: databases.spare) { connection in
                try connection.query("BEGIN")
                try connection.query("LOCK TABLE \(tweetsTable) IN ACCESS EXCLUSIVE MODE")
                Thread.sleep(forTimeInterval: 5)  // the hold: past the mover's pause and its first freezes
                try connection.query("COMMIT")
            }
            try await Task.sleep(for: .milliseconds(300))  // pacing: the hold is taken
            for index in 0..<5 {
                tweets.append(try await bench.api.tweet(TweetText.unique("held \(index)"), as: author))
            }
            try await hold
            #expect(try await mover.exitCode(within: .seconds(120)) == 0, "the move completed\n\(mover.logTail())")
            let log = (try? String(contentsOfFile: mover.logPath, encoding: .utf8)) ?? ""
            #expect(log.contains("did not catch up"), "a freeze rolled back while the copy was held\n\(log)")
            try await MoveDatabases.expectMoved(shard: moving, to: 2, databases: databases, store: store)
            let stored = try await store.tweets(of: [author.id])[author.id] ?? []
            #expect(Set(stored) == Set(tweets), "every post made while the copy was held is on the new server")
            try await bench.invariants([author]).waitUntilHeld(api: bench.api)
        }
    }

    /// A move stopped by a crash after each of its steps (inside the freeze too) completes when the command runs
    /// again, back and forth between two servers; then nothing is lost and nothing is left behind. Between the crash
    /// and the re-run the shard serves on, except after `frozen`, where it refuses (503) until the re-run flips it.
    @Test func aMoveKilledAfterAnyStepCompletesWhenRunAgain() async throws {
        let databases = try await MoveDatabases.fresh()
        let store = try await databases.truthStore()
        try await withSystem(
            postgres: databases.postgresArgument, tweetServiceArguments: MoveDatabases.serviceArguments, store: store
        ) { bench in
            let moving = 3
            let author = try await bench.api.signUp(username: store.username("crash", onShard: moving))
            let reader = try await bench.api.signUp(username: store.username("crashr", onShard: 5))
            try await bench.api.follow(author, as: reader)
            var tweets = [try await bench.api.tweet(TweetText.unique("before"), as: author)]
            // Shard 3 starts on server 0; it goes to the spare (2) and back, and again.
            let targets = [(databases.spare, 2), (databases.primaries[0], 0)]
            for (index, step) in ["copied", "locked", "frozen", "flipped", "cleaned"].enumerated() {
                let (target, server) = targets[index % 2]
                let crashed = try await MoveDatabases.moveProcess(
                    moving, to: target, in: databases, bench: bench, arguments: ["--crash-after", step])
                #expect(try await crashed.exitCode(within: .seconds(60)) == 86, "the mover crashed after \(step)")
                let between = try await bench.api.post(TweetText.unique("between \(step)"), as: author)
                if step == "frozen" {
                    #expect(between.isUnavailable, "a frozen, unflipped shard refuses: \(between.summary)")
                } else {
                    #expect(between.status == 201, "the shard serves after a crash at \(step): \(between.summary)")
                    if let id = between.tweetID { tweets.append(id) }
                }
                _ = try await MoveDatabases.moveShard(moving, to: target, in: databases, bench: bench)
                try await MoveDatabases.expectMoved(shard: moving, to: server, databases: databases, store: store)
                tweets.append(try await bench.api.tweet(TweetText.unique("after \(step)"), as: author))
            }
            try await bench.invariants([author, reader]).waitUntilHeld(api: bench.api)
            let stored = try await store.tweets(of: [author.id])[author.id] ?? []
            #expect(Set(stored) == Set(tweets), "every acknowledged tweet, once")
        }
    }

    /// `tweet-service rebalance --add-server` fills the spare server while users post and read: shards move one at a
    /// time from the fullest server to it until the three hold 3, 3 and 2 of the 8 shards, with progress printed,
    /// every request answered, and the invariants holding after. A first run crashes after its first move flipped;
    /// the second completes that move, plans the rest again, and finishes.
    @Test func rebalanceFillsANewServerWhileTheSystemServes() async throws {
        let databases = try await MoveDatabases.fresh()
        let store = try await databases.truthStore()
        try await withSystem(
            postgres: databases.postgresArgument, tweetServiceArguments: MoveDatabases.serviceArguments, store: store
        ) { bench in
            var users: [Account] = []
            for shard in 0..<MoveDatabases.logicalShards {
                users.append(try await bench.api.signUp(username: store.username("bal", onShard: shard)))
            }
            for user in users.dropFirst() {
                try await bench.api.follow(user, as: users[0])
            }
            let traffic = MoveTraffic()
            let system = bench.system
            let authors = users
            async let load = traffic.run(system: system, authors: authors, reader: authors[0])
            let arguments = [
                "rebalance", "--postgres", databases.primaries[0], "--add-server", databases.spare, "--grace-seconds",
                "1",
            ]
            let executable = "\(try FaultEnvironment.value("TWEETER_BIN_DIR"))/tweet-service"
            // The first run crashes as its first move has flipped; the second completes that move and the plan.
            let crashed = ServiceProcess(
                name: "rebalance", executable: executable, arguments: arguments + ["--crash-after", "flipped"],
                logPath: "\(bench.system.directory)/rebalance-crashed.log")
            try crashed.start()
            #expect(try await crashed.exitCode(within: .seconds(120)) == 86, "the first run crashed")
            let rebalance = ServiceProcess(
                name: "rebalance", executable: executable, arguments: arguments,
                logPath: "\(bench.system.directory)/rebalance.log")
            try rebalance.start()
            let code = try await rebalance.exitCode(within: .seconds(120))
            traffic.stop()
            let outcome = try await load
            #expect(code == 0, "rebalance succeeded\n\(rebalance.logTail())")
            let log = (try? String(contentsOfFile: rebalance.logPath, encoding: .utf8)) ?? ""
            #expect(log.contains("completing an interrupted move"), "it completed the crashed run's move first\n\(log)")
            #expect(log.contains("[1/1]"), "then planned the one move left, printing its progress\n\(log)")
            try await store.database.refreshShardMap()
            let counts = (0..<3).map { store.database.shardMap.shards(onServer: $0).count }
            #expect(counts.sorted() == [2, 3, 3], "the servers hold about as many shards: \(counts)")
            #expect(outcome.failures.isEmpty, "no request failed: \(outcome.failures.prefix(5))")
            try await bench.invariants(users).waitUntilHeld(api: bench.api)
        }
    }
}

extension MoveDatabases {
    /// What the TweetService needs for this database beside `--postgres`.
    static let serviceArguments = ["--logical-shards", String(logicalShards)]

    /// Starts `tweet-service move-shard` (grace period 1 s) with more `arguments`, without waiting for it.
    static func moveProcess(
        _ shard: Int, to target: String, in databases: MoveDatabases, bench: FaultBench, arguments: [String] = []
    ) async throws -> ServiceProcess {
        let process = ServiceProcess(
            name: "move-shard", executable: "\(try FaultEnvironment.value("TWEETER_BIN_DIR"))/tweet-service",
            arguments: [
                "move-shard", "--postgres", databases.primaries[0], "--shard", String(shard), "--to", target,
                "--grace-seconds", "1",
            ] + arguments, logPath: "\(bench.system.directory)/move-shard-\(UUID().uuidString.prefix(8)).log")
        try process.start()
        return process
    }

    /// Runs `tweet-service move-shard` to its end and returns its output.
    /// - Throws: ``FaultFailure`` when it fails.
    static func moveShard(_ shard: Int, to target: String, in databases: MoveDatabases, bench: FaultBench)
        async throws -> String
    {
        let process = try await moveProcess(shard, to: target, in: databases, bench: bench)
        guard try await process.exitCode(within: .seconds(120)) == 0 else {
            throw FaultFailure("move-shard failed\n\(process.logTail())")
        }
        return (try? String(contentsOfFile: process.logPath, encoding: .utf8)) ?? ""
    }

    /// The catalog places `shard` on `server`, whose database holds its schema, and no other server holds it or an
    /// old copy of it.
    static func expectMoved(shard: Int, to server: Int, databases: MoveDatabases, store: TruthStore) async throws {
        try await store.database.refreshShardMap()
        #expect(store.database.shardMap.server(ofShard: shard) == server, "the catalog places shard \(shard)")
        let schema = ShardMap.schema(ofShard: shard)
        for (index, url) in (databases.primaries + [databases.spare]).enumerated() {
            #expect(
                try await schemaExists(schema, on: url) == (index == server),
                "\(schema) is on server \(server) only (checked \(index))")
            #expect(try await !schemaExists(schema + "_moved", on: url), "no old copy is left on server \(index)")
        }
    }
}

extension TruthStore {
    /// A fresh username whose user will live on logical shard `shard`.
    func username(_ prefix: String, onShard shard: Int) -> String {
        while true {
            let name = TweeterAPI.uniqueName(prefix)
            if database.shardMap.shard(ofUsername: name) == shard { return name }
        }
    }
}

/// Posts by every author in turn and the reader's home read between them, on a connection of its own, until
/// ``stop()``; records every acknowledged tweet and every failure.
private final class MoveTraffic: Sendable {
    struct Outcome: Sendable {
        var tweets: [(id: Int64, author: Int64)] = []
        var failures: [String] = []
        /// The longest a post took (any author): what the freeze costs a writer.
        var slowestMovingPost: Duration = .zero
    }

    private let stopped = Atomic(false)
    private let acknowledged = Atomic(0)

    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Posts acknowledged so far.
    var posts: Int { acknowledged.load(ordering: .relaxed) }

    /// Whether `count` posts were acknowledged within 60 s.
    func waitForPosts(_ count: Int) async throws -> Bool {
        try await poll(within: .seconds(60), every: .milliseconds(20)) { posts >= count }
    }

    func run(system: SystemUnderTest, authors: [Account], reader: Account) async throws -> Outcome {
        try await HTTPSConnection.with(port: system.gatewayPort, tls: system.tls) { connection in
            let api = TweeterAPI(connection: connection)
            var outcome = Outcome()
            var turn = 0
            while !stopped.load(ordering: .relaxed), outcome.tweets.count < 2_000 {
                let author = authors[turn % authors.count]
                turn += 1
                let started = ContinuousClock.now
                let reply = try await api.post(TweetText.unique("during the move"), as: author)
                outcome.slowestMovingPost = max(outcome.slowestMovingPost, started.duration(to: .now))
                if reply.status == 201, let id = reply.tweetID {
                    outcome.tweets.append((id, author.id))
                    acknowledged.add(1, ordering: .relaxed)
                } else {
                    outcome.failures.append("tweet by \(author.username): \(reply.summary)")
                }
                let home = try await api.call(.GET, "/api/v1/timelines/home", as: reader)
                if home.status != 200 {
                    outcome.failures.append("home: \(home.summary)")
                }
            }
            return outcome
        }
    }
}
