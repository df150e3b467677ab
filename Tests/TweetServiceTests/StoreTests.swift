import Testing
import TweetService
import Wire
import WireTestSupport

/// Every test against the real PostgreSQL servers, one at a time: one of them stops a server. The time limit turns
/// a hang into a named failure.
@Suite(.serialized, .timeLimit(.minutes(2))) enum StoreTests {}

/// Creates `count` users with unique names.
func makeUsers(_ count: Int, client: AnyRoleClient) async throws -> [UserRecord] {
    var users: [UserRecord] = []
    for _ in 0..<count {
        users.append(
            try await client.call(CreateUser.self, Credentials(username: TestStore.uniqueName(), password: "password1"))
        )
    }
    return users
}

/// Whether both halves of the graph agree with each other and with every counter, for these users.
func graphIsConsistent(_ users: [UserRecord], database: ShardedDatabase) async throws -> Bool {
    for user in users {
        guard let shard = database.shardMap.shard(ofID: user.id) else { return false }
        let counts = try await database.withShard(shard) { connection, schema in
            let row = try connection.query(
                """
                SELECT u.following_count, u.followers_count,
                       (SELECT count(*) FROM \(schema).following WHERE follower_id = u.id) AS following_rows,
                       (SELECT count(*) FROM \(schema).followers WHERE followee_id = u.id) AS follower_rows
                FROM \(schema).users u WHERE u.id = $1
                """,
                [String(user.id)]
            )[0]
            return [
                try row.int64("following_count"), try row.int64("following_rows"), try row.int64("followers_count"),
                try row.int64("follower_rows"),
            ]
        }
        guard counts[0] == counts[1], counts[2] == counts[3] else { return false }
    }
    // Every following row has its followers row on the other shard, and the other way round.
    for user in users {
        for followee in try await edges(of: user.id, table: "following", database: database) {
            guard try await edges(of: followee, table: "followers", database: database).contains(user.id) else {
                return false
            }
        }
        for follower in try await edges(of: user.id, table: "followers", database: database) {
            guard try await edges(of: follower, table: "following", database: database).contains(user.id) else {
                return false
            }
        }
    }
    return true
}

func edges(of userID: Int64, table: String, database: ShardedDatabase) async throws -> [Int64] {
    let owner = table == "following" ? "follower_id" : "followee_id"
    let other = table == "following" ? "followee_id" : "follower_id"
    return try await database.withShard(TweeterID.shard(of: userID)) { connection, schema in
        try connection.query("SELECT \(other) AS id FROM \(schema).\(table) WHERE \(owner) = $1", [String(userID)]).all
            .map { try $0.int64("id") }
    }
}
