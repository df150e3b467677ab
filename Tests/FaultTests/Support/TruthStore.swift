import Foundation
import Logging
import TweetService
import Wire

/// PostgreSQL, read directly: the truth the invariants compare every view with, and the place where some faults are
/// set up (synthetic followers, a replayed outbox row).
struct TruthStore: Sendable {
    let database: ShardedDatabase

    /// The store of the servers in `TWEETER_PG_URLS`, shared by every test (one pool per server).
    static func shared() throws -> TruthStore {
        guard let database = sharedDatabase else {
            throw FaultFailure(
                "TWEETER_PG_URLS is not set: run the tests through scripts/test, which starts PostgreSQL")
        }
        return TruthStore(database: database)
    }

    private static let sharedDatabase: ShardedDatabase? = {
        guard let urls = try? FaultEnvironment.value("TWEETER_PG_URLS") else { return nil }
        let servers = urls.split(separator: ",").map(String.init)
        var logger = Logger(label: "fault-tests")
        logger.logLevel = .error
        return ShardedDatabase(
            servers: servers, shardMap: ShardMap(logicalShards: 1024, servers: servers.count), logger: logger)
    }()

    /// The physical server (0-based) that holds a user's or a tweet's rows.
    func server(of id: Int64) -> Int {
        database.shardMap.server(ofShard: TweeterID.shard(of: id))
    }

    /// A fresh username whose user will live on physical server `server` (0-based).
    func username(_ prefix: String, onServer server: Int) -> String {
        while true {
            let name = TweeterAPI.uniqueName(prefix)
            if database.shardMap.server(ofShard: database.shardMap.shard(ofUsername: name)) == server { return name }
        }
    }

    /// A fresh username whose user will not live on any of `shards`.
    func username(_ prefix: String, notOnShards shards: Set<Int>) -> String {
        while true {
            let name = TweeterAPI.uniqueName(prefix)
            if !shards.contains(database.shardMap.shard(ofUsername: name)) { return name }
        }
    }

    /// The ids of each user's tweets in the store, newest first.
    func tweets(of users: [Int64]) async throws -> [Int64: [Int64]] {
        let pairs = try await pairs(of: users, table: "tweets", key: "user_id", value: "id")
        return pairs.mapValues { $0.sorted(by: >) }
    }

    /// Whom each user follows, from the follower's side (the truth).
    func following(of users: [Int64]) async throws -> [Int64: Set<Int64>] {
        try await pairs(of: users, table: "following", key: "follower_id", value: "followee_id").mapValues(Set.init)
    }

    /// Who among `users` follows each of them, from the followee's side (the copy); synthetic followers are left out.
    func followers(of users: [Int64]) async throws -> [Int64: Set<Int64>] {
        try await pairs(of: users, table: "followers", key: "followee_id", value: "follower_id", valueAmong: users)
            .mapValues(Set.init)
    }

    /// Each user's stored counters and the rows they count.
    func counters(of users: [Int64]) async throws -> [Int64: UserCounters] {
        let rows = try await database.select(
            idsByShard: database.shardMap.group(users),
            branch: { schema, ids in
                """
                SELECT u.id, u.followers_count, u.following_count, u.tweets_count,
                    (SELECT count(*) FROM \(schema).followers f WHERE f.followee_id = u.id) AS followers_rows,
                    (SELECT count(*) FROM \(schema).following f WHERE f.follower_id = u.id) AS following_rows,
                    (SELECT count(*) FROM \(schema).tweets t WHERE t.user_id = u.id) AS tweets_rows
                FROM \(schema).users u WHERE u.id = ANY(\(ids))
                """
            },
            decode: { row in
                UserCounters(
                    id: try row.int64("id"), followers: try row.int64("followers_count"),
                    followersRows: try row.int64("followers_rows"), following: try row.int64("following_count"),
                    followingRows: try row.int64("following_rows"), tweets: try row.int64("tweets_count"),
                    tweetsRows: try row.int64("tweets_rows"))
            })
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
    }

    /// The shards whose outbox holds rows, with how many, over every server.
    func nonEmptyOutboxes() async throws -> [Int: Int64] {
        let perServer = try await database.onEveryServer { connection, shards in
            let statement = shards.map {
                "SELECT \($0) AS shard, count(*) AS rows FROM \(ShardMap.schema(ofShard: $0)).outbox"
            }.joined(separator: " UNION ALL ")
            return try connection.query("SELECT shard, rows FROM (\(statement)) counts WHERE rows > 0").all.map {
                (Int(try $0.int64("shard")), try $0.int64("rows"))
            }
        }
        return Dictionary(uniqueKeysWithValues: perServer.flatMap { $0 })
    }

    /// Which of `texts` (each on one line) the user's stored tweets have.
    func storedTexts(of user: Int64, among texts: [String]) async throws -> Set<String> {
        let rows = try await database.withShard(TweeterID.shard(of: user)) { connection, schema in
            try connection.query(
                "SELECT text FROM \(schema).tweets WHERE user_id = $1 AND text = ANY(string_to_array($2, chr(10)))",
                [String(user), texts.joined(separator: "\n")])
        }
        return Set(try rows.all.map { try $0.string("text") })
    }

    /// Inserts `count` follower rows for `author` with made-up follower ids (only their home timelines matter), and
    /// raises the author's counter to match, as the follow graph would have.
    func addSyntheticFollowers(to author: Int64, count: Int) async throws -> [Int64] {
        let base =
            TweeterID.make(unixMillis: TweeterID.epochMillis + 1, shard: 0, sequence: 0)
            + Int64.random(in: 1...1_000_000_000) * 100_000
        for start in stride(from: 1, through: count, by: 10_000) {
            let end = min(start + 9_999, count)
            try await database.withShard(TweeterID.shard(of: author)) { connection, schema in
                try connection.transaction { connection in
                    try connection.query(
                        """
                        INSERT INTO \(schema).followers (followee_id, follower_id, edge_id)
                        SELECT $1, $2::bigint + g, g FROM generate_series($3::bigint, $4::bigint) g
                        """, [String(author), String(base), String(start), String(end)])
                    try connection.query(
                        "UPDATE \(schema).users SET followers_count = followers_count + $2 WHERE id = $1",
                        [String(author), String(end - start + 1)])
                }
            }
        }
        return (1...count).map { base + Int64($0) }
    }

    /// `key → [value]` for the rows of `table` (in every user's shard) whose `key` is one of `users` (and whose
    /// `value` is one of `values`, when given).
    private func pairs(
        of users: [Int64], table: String, key: String, value: String, valueAmong values: [Int64]? = nil
    ) async throws -> [Int64: [Int64]] {
        let filter = values == nil ? "" : " AND \(value) = ANY($1::bigint[])"
        let rows = try await database.select(
            idsByShard: database.shardMap.group(users),
            sharedParameters: values.map { ["{" + $0.map(String.init).joined(separator: ",") + "}"] } ?? [],
            branch: { schema, ids in
                "SELECT \(key) AS k, \(value) AS v FROM \(schema).\(table) WHERE \(key) = ANY(\(ids))\(filter)"
            },
            decode: { (try $0.int64("k"), try $0.int64("v")) })
        var result = Dictionary(uniqueKeysWithValues: users.map { ($0, [Int64]()) })
        for (key, value) in rows {
            result[key, default: []].append(value)
        }
        return result
    }
}

/// A user's counters next to the rows they count.
struct UserCounters: Sendable {
    var id: Int64
    var followers, followersRows, following, followingRows, tweets, tweetsRows: Int64
}
