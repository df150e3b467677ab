import Logging
import Wire

/// Sign-up, sign-in and sessions. A user lives on the shard its lowercased username hashes to, so a name is unique
/// by that shard's index and found without asking the others.
///
/// Session tokens are `<user id>.<64 hex digits>`: the id routes to the user's shard, and only the SHA-256 of the
/// whole token is stored, so a copy of the database cannot be used to sign in. Revoking deletes the row. Sessions
/// expire and slide with use as ``SessionPolicy`` says.
public struct AccountStore: Sendable {
    let database: ShardedDatabase
    let hasher: PasswordHasher
    let sessions: SessionPolicy

    public init(database: ShardedDatabase, hasher: PasswordHasher, sessions: SessionPolicy = SessionPolicy()) {
        self.database = database
        self.hasher = hasher
        self.sessions = sessions
    }

    public func createUser(_ credentials: Credentials) async throws -> UserRecord {
        try Validation.checkUsername(credentials.username)
        try Validation.checkPassword(credentials.password)
        let passwordHash = try await hasher.hash(credentials.password)
        let shard = database.shardMap.shard(ofUsername: credentials.username)
        do {
            return try await database.withShard(shard) { connection, schema in
                let rows = try connection.query(
                    """
                    INSERT INTO \(schema).users (id, username, username_key, password_hash)
                    VALUES (\(schema).next_id(), $1, lower($1), $2)
                    RETURNING \(UserColumns.list(schema + ".users"))
                    """,
                    [credentials.username, passwordHash]
                )
                return try UserColumns.decode(rows[0])
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw WireError(.alreadyExists, reason: "username_taken", "that username is taken")
        }
    }

    public func authenticate(_ credentials: Credentials) async throws -> Session {
        let invalid = WireError(.unauthenticated, reason: "invalid_credentials", "wrong username or password")
        guard (try? Validation.checkUsername(credentials.username)) != nil,
            credentials.password.unicodeScalars.count <= 1024
        else {
            throw invalid
        }
        let shard = database.shardMap.shard(ofUsername: credentials.username)
        let found = try await database.withShard(shard) { connection, schema in
            try connection.query(
                "SELECT \(UserColumns.list("u")), u.password_hash FROM \(schema).users u WHERE u.username_key = lower($1)",
                [credentials.username]
            ).all.first.map { (try UserColumns.decode($0), try $0.string("password_hash")) }
        }
        guard let (user, storedHash) = found else {
            // Spend the same effort as a real check, so that timing does not tell which usernames exist.
            _ = try await hasher.hash(credentials.password)
            throw invalid
        }
        guard try await hasher.verify(credentials.password, against: storedHash) else { throw invalid }
        let secret = try SecureRandom.bytes(32)
        let token = "\(user.id).\(secret.hex)"
        let tokenHash = SecureRandom.sha256(Array(token.utf8)).byteaLiteral
        let lifetime = sessions.lifetimeMilliseconds
        try await database.withShard(TweeterID.shard(of: user.id)) { connection, schema in
            // The user's other sessions stay (other devices); only expired ones are swept, so that one user's rows
            // stay bounded by how often they sign in within one lifetime.
            try connection.query(
                "DELETE FROM \(schema).sessions WHERE user_id = $1 AND expires_at <= now()", [String(user.id)]
            )
            try connection.query(
                """
                INSERT INTO \(schema).sessions (token_hash, user_id, expires_at)
                VALUES ($1::bytea, $2, now() + $3::bigint * interval '1 millisecond')
                """,
                [tokenHash, String(user.id), lifetime]
            )
        }
        return Session(token: token, user: user)
    }

    /// The user an unexpired `token` belongs to; renews the session when ``SessionPolicy`` says it is due.
    public func resolve(token: String) async throws -> UserRecord {
        let (shard, tokenHash) = try route(token)
        let sessions = self.sessions
        let user = try await database.withShard(shard) { connection, schema -> UserRecord? in
            let row = try connection.query(
                """
                SELECT \(UserColumns.list("u")), s.expires_at < now() + $2::bigint * interval '1 millisecond' AS renew
                FROM \(schema).sessions s JOIN \(schema).users u ON u.id = s.user_id
                WHERE s.token_hash = $1::bytea AND s.expires_at > now()
                """,
                [tokenHash, sessions.renewBelowMilliseconds]
            ).all.first
            guard let row else { return nil }
            if try row.bool("renew") {
                try connection.query(
                    """
                    UPDATE \(schema).sessions SET expires_at = now() + $2::bigint * interval '1 millisecond'
                    WHERE token_hash = $1::bytea
                    """,
                    [tokenHash, sessions.lifetimeMilliseconds]
                )
            }
            return try UserColumns.decode(row)
        }
        guard let user else { throw Self.invalidToken }
        return user
    }

    public func revoke(token: String) async throws {
        let (shard, tokenHash) = try route(token)
        try await database.withShard(shard) { connection, schema in
            try connection.query("DELETE FROM \(schema).sessions WHERE token_hash = $1::bytea", [tokenHash])
        }
    }

    private static let invalidToken = WireError(.unauthenticated, reason: "invalid_token", "unknown or revoked token")

    /// The shard a token's user lives on and the stored form of the token.
    private func route(_ token: String) throws(WireError) -> (Int, String) {
        let parts = token.split(separator: ".")
        guard token.utf8.count <= 128, parts.count == 2, let userID = Int64(parts[0]), parts[1].utf8.count == 64,
            let shard = database.shardMap.shard(ofID: userID)
        else {
            throw Self.invalidToken
        }
        return (shard, SecureRandom.sha256(Array(token.utf8)).byteaLiteral)
    }
}
