import Foundation
import InfraTestSupport
import Logging
import TweetService

/// A database of its own, `tweeter_moves`, on the two test servers and on the spare server (`scripts/infra
/// pg-spare-start`), with 8 logical shards: the shard-move tests move shards there, so the layout every other test
/// relies on never changes.
struct MoveDatabases: Sendable {
    static let name = "tweeter_moves"
    static let logicalShards = 8

    /// libpq URLs of the database on the two servers, in shard-map order (the first holds the catalog).
    let primaries: [String]
    /// The database on the spare server, which holds nothing until shards move there.
    let spare: String

    var postgresArgument: String { primaries.joined(separator: ",") }

    /// Starts the spare server and makes the database afresh on all three servers.
    static func fresh() async throws -> MoveDatabases {
        try await ScriptsInfra.run("pg-spare-start")
        let servers =
            try FaultEnvironment.value("TWEETER_PG_URLS").split(separator: ",").map(String.init) + [
                try FaultEnvironment.value("TWEETER_PG_SPARE_URL")
            ]
        let databases = servers.map { url in
            String(url[..<(url.lastIndex(of: "/") ?? url.endIndex)]) + "/" + name
        }
        // Subscriptions left by a failed run hold slots on the other servers, which keep their database alive.
        for database in databases {
            try? await run(on: database) { connection in
                for subscription in try connection.query("SELECT subname FROM pg_subscription").all {
                    let name = try subscription.string("subname")
                    // One statement at a time: DROP SUBSCRIPTION may not run in a transaction.
                    try connection.query("ALTER SUBSCRIPTION \(name) DISABLE")
                    try connection.query("ALTER SUBSCRIPTION \(name) SET (slot_name = NONE)")
                    try connection.query("DROP SUBSCRIPTION \(name)")
                }
            }
        }
        for server in servers {
            try await run(on: server) { connection in
                try connection.query(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1", [name])
                try connection.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                try connection.query("CREATE DATABASE \(name)")
            }
        }
        return MoveDatabases(primaries: Array(databases.prefix(2)), spare: databases[2])
    }

    /// The store the invariants read: the catalog's map, followed as shards move.
    func truthStore() async throws -> TruthStore {
        TruthStore(
            database: try await ShardedDatabase.open(
                servers: primaries, logicalShards: Self.logicalShards, logger: Self.quietLogger))
    }

    /// Runs `body` on one connection to `url`.
    @discardableResult
    static func run<Value: Sendable>(
        on url: String, _ body: @escaping @Sendable (PostgresConnection) throws -> Value
    ) async throws -> Value {
        let pool = PostgresPool(
            configuration: PostgresPool.Configuration(
                conninfo: url, connections: 1, lockTimeout: .seconds(60), statementTimeout: .seconds(60)),
            logger: quietLogger)
        let result = await Result { try await pool.withConnection(body) }
        try await pool.shutdown()
        return try result.get()
    }

    /// Whether `schema` exists in the database at `url`.
    static func schemaExists(_ schema: String, on url: String) async throws -> Bool {
        try await run(on: url) { connection in
            !(try connection.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]).isEmpty)
        }
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "fault-tests")
        logger.logLevel = .error
        return logger
    }()
}
