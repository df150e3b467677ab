import Wire

/// Reads users by id (batched: one statement per server) and by username (one shard).
public struct UserDirectory: Sendable {
    let database: ShardedDatabase

    public init(database: ShardedDatabase) {
        self.database = database
    }

    /// The users with these ids, in the order asked; unknown ids are left out. One round trip per server involved.
    public func users(_ ids: [Int64]) async throws -> [UserRecord] {
        let rows = try await database.select(idsByShard: database.shardMap.group(ids)) { schema, ids in
            "SELECT \(UserColumns.list("u")) FROM \(schema).users u WHERE u.id = ANY(\(ids))"
        } decode: {
            try UserColumns.decode($0)
        }
        let found = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
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
