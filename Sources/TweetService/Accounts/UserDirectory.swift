import Wire

/// Reads users by id (batched per shard) and by username (one shard).
public struct UserDirectory: Sendable {
    let database: ShardedDatabase

    public init(database: ShardedDatabase) {
        self.database = database
    }

    /// The users with these ids, in the order asked; unknown ids are left out. One round trip per shard involved.
    public func users(_ ids: [Int64]) async throws -> [UserRecord] {
        let byShard = try await database.onShards(database.shardMap.group(ids).keys) { [groups = database.shardMap.group(ids)] connection, shard, schema in
            try connection.query(
                "SELECT \(UserColumns.list("u")) FROM \(schema).users u WHERE u.id = ANY($1::bigint[])",
                [groups[shard, default: []].postgresArray]
            ).all.map(UserColumns.decode)
        }
        let found = Dictionary(byShard.values.joined().map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { found[$0] }
    }

    public func user(_ id: Int64) async throws -> UserRecord {
        guard let user = try await users([id]).first else {
            throw WireError(.notFound, reason: "unknown_user", "no user \(id)")
        }
        return user
    }

    public func user(named username: String) async throws -> UserRecord {
        guard (try? Validation.checkUsername(username)) != nil else {
            throw WireError(.notFound, reason: "unknown_user", "no user named \(username)")
        }
        let user = try await database.withShard(database.shardMap.shard(ofUsername: username)) { connection, schema in
            try connection.query(
                "SELECT \(UserColumns.list("u")) FROM \(schema).users u WHERE u.username_key = lower($1)", [username]
            ).all.first.map(UserColumns.decode)
        }
        guard let user else {
            throw WireError(.notFound, reason: "unknown_user", "no user named \(username)")
        }
        return user
    }
}
