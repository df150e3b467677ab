/// The shard catalog through one blocking connection, for ``ShardMover``, which runs on a thread of its own and
/// changes the catalog only in the transactions here.
final class ShardCatalogConnection {
    /// A move's record in `shard_moves`.
    struct MoveRecord {
        let shard: Int
        let source: Int
        let target: Int
        let step: String
        /// Seconds since the step was recorded.
        let age: Double
    }

    let connection: PostgresConnection

    init(conninfo: String) throws {
        connection = try PostgresConnection(conninfo: conninfo)
    }

    func snapshot() throws -> ShardCatalog.Snapshot {
        try connection.transaction { connection in
            try connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return try ShardCatalog.read(connection)
        }
    }

    /// The number of the server `conninfo` names, adding it if the catalog does not know it yet.
    func register(server conninfo: String) throws -> Int {
        try connection.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock(\(ShardCatalog.lockKey))")
            if let known = try connection.query(
                "SELECT id FROM tweeter_catalog.servers WHERE conninfo = $1", [conninfo]
            ).all.first {
                return Int(try known.int64("id"))
            }
            let added = try connection.query(
                """
                INSERT INTO tweeter_catalog.servers (id, conninfo)
                SELECT coalesce(max(id) + 1, 0), $1 FROM tweeter_catalog.servers RETURNING id
                """, [conninfo])
            return Int(try added[0].int64("id"))
        }
    }

    /// Takes the session lock that lets one process at a time work on `shard`'s move; false if another holds it.
    func lockMoves(of shard: Int) throws -> Bool {
        try connection.query(
            "SELECT pg_try_advisory_lock(\(ShardCatalog.lockKey % 1_000_000), $1) AS locked",
            [
                String(shard)
            ])[0].bool("locked")
    }

    func unlockMoves(of shard: Int) throws {
        try connection.query("SELECT pg_advisory_unlock(\(ShardCatalog.lockKey % 1_000_000), $1)", [String(shard)])
    }

    func moves() throws -> [MoveRecord] {
        try connection.query(
            """
            SELECT shard, source, target, step, extract(epoch FROM now() - updated_at)::float8 AS age
            FROM tweeter_catalog.shard_moves ORDER BY shard
            """
        ).all.map {
            MoveRecord(
                shard: Int(try $0.int64("shard")), source: Int(try $0.int64("source")),
                target: Int(try $0.int64("target")), step: try $0.string("step"),
                age: Double(try $0.string("age")) ?? 0)
        }
    }

    func start(shard: Int, source: Int, target: Int) throws {
        try connection.query(
            "INSERT INTO tweeter_catalog.shard_moves (shard, source, target, step) VALUES ($1, $2, $3, 'copying')",
            [String(shard), String(source), String(target)])
    }

    func record(shard: Int, step: String) throws {
        try connection.query(
            "UPDATE tweeter_catalog.shard_moves SET step = $2, updated_at = now() WHERE shard = $1",
            [String(shard), step])
    }

    /// Places `shard` on `server` and bumps the map's version, in one transaction with the move's step.
    func flip(shard: Int, to server: Int) throws {
        try connection.transaction { connection in
            try connection.query("SELECT pg_advisory_xact_lock(\(ShardCatalog.lockKey))")
            try connection.query(
                "UPDATE tweeter_catalog.placements SET server = $2 WHERE shard = $1", [String(shard), String(server)])
            try connection.query("UPDATE tweeter_catalog.shard_map SET version = version + 1")
            try connection.query(
                "UPDATE tweeter_catalog.shard_moves SET step = 'flipped', updated_at = now() WHERE shard = $1",
                [String(shard)])
        }
    }

    func finish(shard: Int) throws {
        try connection.query("DELETE FROM tweeter_catalog.shard_moves WHERE shard = $1", [String(shard)])
    }
}
