import Foundation
import Logging
import TweetService

/// The benchmark's own database on every PostgreSQL server, beside the shared `tweeter` one.
///
/// Same servers, same schema, but a database of its own: the tweets, the outbox events and the million follower
/// rows the benchmark writes never reach another session's outbox relay, tests or row counts, and dropping the
/// database removes all of it at once.
struct BenchmarkDatabase: Sendable {
    let name: String
    /// One URL per server, to the benchmark database, in shard-map order.
    let urls: [String]
    /// One URL per server, to its `postgres` maintenance database (where `CREATE DATABASE` runs).
    let adminURLs: [String]
    let psql: String

    init(name: String, serverURLs: [String], psql: String) {
        self.name = name
        self.urls = serverURLs.map { Self.url($0, database: name) }
        self.adminURLs = serverURLs.map { Self.url($0, database: "postgres") }
        self.psql = psql
    }

    /// `url` with its database name replaced: `postgresql://user@host:port/<database>[?options]`.
    static func url(_ url: String, database: String) -> String {
        let (base, query) = url.firstIndex(of: "?").map { (url[..<$0], url[$0...]) } ?? (url[...], "")
        let hostStart = base.range(of: "://")?.upperBound ?? base.startIndex
        let path = base[hostStart...].firstIndex(of: "/") ?? base.endIndex
        return String(base[..<path]) + "/" + database + query
    }

    /// Creates the database on every server where it is missing.
    func create(in scratch: ScratchDirectory) async throws {
        for admin in adminURLs {
            let exists = try await runPSQL(
                admin, "SELECT count(*) FROM pg_database WHERE datname = '\(name)'", scratch: scratch)
            if exists.trimmingCharacters(in: .whitespacesAndNewlines) == "0" {
                _ = try await runPSQL(admin, "CREATE DATABASE \(name)", scratch: scratch)
            }
        }
    }

    /// Drops the database on every server, closing any connection still open to it.
    func drop(in scratch: ScratchDirectory) async throws {
        for admin in adminURLs {
            _ = try await runPSQL(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)", scratch: scratch)
        }
    }

    /// Brings every shard of the benchmark database to the newest schema, through a pool of its own (the
    /// migration touches all 1024 shards at once, and a large pool would open all its connections for it).
    func migrate(logger: Logger) async throws {
        let database = open(connectionsPerServer: 8, logger: logger)
        do {
            try await SchemaMigrator(database: database, logger: logger).migrate()
        } catch {
            try? await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }

    /// A sharded handle on the benchmark database with the production layout (1024 logical shards).
    func open(connectionsPerServer: Int, logger: Logger) -> ShardedDatabase {
        ShardedDatabase(
            servers: urls, shardMap: ShardMap(logicalShards: 1024, servers: urls.count),
            connectionsPerServer: connectionsPerServer, logger: logger
        )
    }

    private func runPSQL(_ url: String, _ sql: String, scratch: ScratchDirectory) async throws -> String {
        try await ExternalCommand(psql, ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
            .runChecked(outputPath: scratch.file("psql.out"))
    }
}
