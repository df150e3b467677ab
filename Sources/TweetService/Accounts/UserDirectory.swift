import Wire

/// Reads users by id (batched: one statement per server) and by username (one shard).
public struct UserDirectory: Sendable {
    let database: ShardedDatabase

    public init(database: ShardedDatabase) {
        self.database = database
    }

    /// The users with these ids, in the order asked; unknown ids are left out. One round trip per server involved.
    ///
    /// From a replica (`source`), a user it did not return is asked of the primary before it is left out: a miss on
    /// a replica is never taken as proof that a user does not exist.
    public func users(_ ids: [Int64], from source: ReadSource = .primary) async throws -> [UserRecord] {
        var found = try await select(ids, from: source)
        let missing = ids.filter { found[$0] == nil }
        if source != .primary, !missing.isEmpty {
            found.merge(try await select(missing, from: .primary)) { first, _ in first }
        }
        return ids.compactMap { found[$0] }
    }

    private func select(_ ids: [Int64], from source: ReadSource) async throws -> [Int64: UserRecord] {
        let rows = try await database.select(idsByShard: database.shardMap.group(ids), from: source) { schema, ids in
            "SELECT \(UserColumns.list("u")) FROM \(schema).users u WHERE u.id = ANY(\(ids))"
        } decode: {
            try UserColumns.decode($0)
        }
        return Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
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
