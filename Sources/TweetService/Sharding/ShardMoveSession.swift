import Foundation
import Logging

/// One mover's work, on its own thread and blocking connections: the steps that ``ShardMover`` describes.
final class ShardMoveSession {
    let catalog: ShardCatalogConnection
    let configuration: ShardMover.Configuration
    let logger: Logger

    init(catalog: ShardCatalogConnection, configuration: ShardMover.Configuration, logger: Logger) {
        self.catalog = catalog
        self.configuration = configuration
        self.logger = logger
    }

    /// The names one move uses: the schema, its name once frozen, and the publication, subscription and slot.
    struct Names {
        let schema: String
        let moved: String
        let replication: String

        init(shard: Int) {
            schema = ShardMap.schema(ofShard: shard)
            moved = schema + "_moved"
            replication = "tweeter_move_" + schema
        }
    }

    /// Completes the recorded moves of `shard` (every shard when nil) up to their grace period.
    func resumeMoves(of shard: Int?) throws {
        for record in try catalog.moves() where (shard == nil || record.shard == shard) && record.step != "cleaned" {
            logger.notice(
                "completing an interrupted move", metadata: ["shard": "\(record.shard)", "step": "\(record.step)"])
            try withMoveLock(of: record.shard) { try run(record) }
        }
    }

    /// Moves `shard` to the server `target` names, up to its grace period.
    func move(shard: Int, to target: String) throws {
        let snapshot = try catalog.snapshot()
        guard snapshot.schemasCreated else { throw ShardMoveError.schemasNotCreated }
        guard (0..<snapshot.map.logicalShardCount).contains(shard) else { throw ShardMoveError.noSuchShard(shard) }
        if let pending = try catalog.moves().first(where: { $0.shard == shard }) {
            guard pending.step == "cleaned" else { throw ShardMoveError.anotherMoveUnderWay(shard: shard) }
            // The shard moves again: its previous old copy goes now rather than after the grace period.
            try dropOldCopy(pending)
        }
        let source = snapshot.map.server(ofShard: shard)
        // Compared as databases, not as URLs: two URLs may name one database, and copying onto the database that
        // holds the shard would first drop it.
        let sourceIdentity = try identity(of: PostgresConnection(conninfo: snapshot.servers[source]))
        guard try identity(of: PostgresConnection(conninfo: target)) != sourceIdentity else {
            logger.notice("the shard is in that database already", metadata: ["shard": "\(shard)"])
            return
        }
        let targetServer = try catalog.register(server: target)
        try withMoveLock(of: shard) {
            try catalog.start(shard: shard, source: source, target: targetServer)
            try run(
                ShardCatalogConnection.MoveRecord(
                    shard: shard, source: source, target: targetServer, step: "copying", age: 0))
        }
    }

    /// Drops the old copies of finished moves: those past the grace period, or all of them after waiting it out.
    func dropOldCopies(waiting: Bool) throws {
        for record in try catalog.moves() where record.step == "cleaned" {
            let remaining = configuration.gracePeriod.seconds - record.age
            if remaining > 0 {
                guard waiting else { continue }
                logger.notice("keeping the old copy for the grace period", metadata: ["seconds": "\(remaining)"])
                Thread.sleep(forTimeInterval: remaining)
            }
            try dropOldCopy(record)
        }
    }

    private func dropOldCopy(_ record: ShardCatalogConnection.MoveRecord) throws {
        let source = try PostgresConnection(conninfo: try catalog.snapshot().servers[record.source])
        try source.execute(
            script:
                "SET client_min_messages TO warning; DROP SCHEMA IF EXISTS \(Names(shard: record.shard).moved) CASCADE")
        try catalog.finish(shard: record.shard)
        configuration.afterStep(record.shard, "dropped")
    }

    private func withMoveLock(of shard: Int, _ body: () throws -> Void) throws {
        guard try catalog.lockMoves(of: shard) else { throw ShardMoveError.busy(shard: shard) }
        defer { try? catalog.unlockMoves(of: shard) }
        try body()
    }

    /// Runs a move from its recorded step to `cleaned`.
    private func run(_ record: ShardCatalogConnection.MoveRecord) throws {
        let snapshot = try catalog.snapshot()
        let source = try PostgresConnection(conninfo: snapshot.servers[record.source])
        let target = try PostgresConnection(conninfo: snapshot.servers[record.target])
        for connection in [source, target] {
            try connection.execute(script: "SET client_min_messages TO warning")
        }
        let names = Names(shard: record.shard)
        var step = record.step
        if step == "copying", try !exists(schema: names.schema, on: source), try exists(schema: names.moved, on: source)
        {
            // The freeze committed, but the process stopped before it recorded so.
            step = "frozen"
            try catalog.record(shard: record.shard, step: step)
        }
        if step == "copying" {
            guard snapshot.map.server(ofShard: record.shard) == record.source else {
                throw ShardCatalogError.corrupt("shard \(record.shard) is copying but not placed on its source")
            }
            try copy(record.shard, names, from: source, at: snapshot.servers[record.source], to: target)
            configuration.afterStep(record.shard, "copied")
            try freeze(record.shard, names, source: source, target: target)
            try catalog.record(shard: record.shard, step: "frozen")
            configuration.afterStep(record.shard, "frozen")
            step = "frozen"
        }
        if step == "frozen" {
            try catalog.flip(shard: record.shard, to: record.target)
            configuration.afterStep(record.shard, "flipped")
            step = "flipped"
        }
        if step == "flipped" {
            try dropReplication(names, source: source, target: target)
            try catalog.record(shard: record.shard, step: "cleaned")
            configuration.afterStep(record.shard, "cleaned")
        }
    }

    /// Makes the target an empty copy of the shard's schema and subscribes it to the source's rows and writes.
    private func copy(
        _ shard: Int, _ names: Names, from source: PostgresConnection, at conninfo: String,
        to target: PostgresConnection
    ) throws {
        try dropReplication(names, source: source, target: target)
        try target.execute(
            script: "DROP SCHEMA IF EXISTS \(names.schema) CASCADE; DROP SCHEMA IF EXISTS \(names.moved) CASCADE")
        _ = try SchemaMigrator.migrate(shard: shard, on: target, Migration.all, mayCreateSchema: true)
        let tables = try self.tables(of: names.schema, on: source)
        try target.execute(script: "TRUNCATE \(tables.joined(separator: ", "))")
        try source.execute(
            script: "CREATE PUBLICATION \(names.replication) FOR TABLES IN SCHEMA \(names.schema)")
        try target.execute(
            script: """
                CREATE SUBSCRIPTION \(names.replication) CONNECTION '\(conninfo.replacingOccurrences(of: "'", with: "''"))'
                PUBLICATION \(names.replication)
                """)
        let deadline = ContinuousClock.now + configuration.copyTimeout
        while true {
            let ready = try target.query(
                """
                SELECT count(*) FILTER (WHERE r.srsubstate = 'r') AS ready FROM pg_subscription_rel r
                JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = $1
                """, [names.replication])[0].int64("ready")
            if ready == tables.count { return }
            guard ContinuousClock.now < deadline else { throw ShardMoveError.copyTimedOut(shard: shard) }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Locks the shard's tables against writes, waits until the target has applied everything, copies the sequences
    /// and renames the schema, in one transaction that holds the lock for at most the freeze budget.
    private func freeze(_ shard: Int, _ names: Names, source: PostgresConnection, target: PostgresConnection) throws {
        try source.execute(script: "DROP SCHEMA IF EXISTS \(names.moved) CASCADE")
        let tables = try self.tables(of: names.schema, on: source).joined(separator: ", ")
        let budget = configuration.freezeBudget
        for attempt in 1...configuration.freezeAttempts {
            try source.query("BEGIN")
            do {
                try source.query("SET LOCAL lock_timeout = \(budget.milliseconds / 2)")
                try source.query("LOCK TABLE \(tables) IN EXCLUSIVE MODE")
                let lockedAt = ContinuousClock.now
                configuration.afterStep(shard, "locked")
                // Every write to the shard committed before the lock was flushed by its commit.
                let flushed = try source.query("SELECT pg_current_wal_flush_lsn()::text AS lsn")[0].string("lsn")
                guard try caughtUp(names, to: flushed, on: target, before: lockedAt + budget) else {
                    try source.query("ROLLBACK")
                    logger.notice(
                        "the copy did not catch up within the freeze budget", metadata: ["attempt": "\(attempt)"])
                    Thread.sleep(forTimeInterval: 0.2)
                    continue
                }
                let sequences = try source.query(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = $1 AND last_value IS NOT NULL",
                    [names.schema])
                for sequence in sequences.all {
                    try target.query(
                        "SELECT setval(format('%I.%I', $1::text, $2::text)::regclass, $3::bigint)",
                        [names.schema, try sequence.string("sequencename"), try sequence.string("last_value")])
                }
                try source.query("ALTER SCHEMA \(names.schema) RENAME TO \(names.moved)")
                try source.query("COMMIT")
                logger.info(
                    "shard frozen and renamed",
                    metadata: ["shard": "\(shard)", "held_ms": "\((ContinuousClock.now - lockedAt).milliseconds)"])
                return
            } catch let error as PostgresError where error.sqlState == "55P03" {
                _ = try? source.query("ROLLBACK")
                logger.notice(
                    "the shard's tables were busy; trying the freeze again", metadata: ["attempt": "\(attempt)"])
            } catch {
                _ = try? source.query("ROLLBACK")
                throw error
            }
        }
        throw ShardMoveError.freezeFailed(shard: shard, attempts: configuration.freezeAttempts)
    }

    /// Whether the subscription reported having applied the source's WAL up to `lsn` before `deadline`.
    private func caughtUp(
        _ names: Names, to lsn: String, on target: PostgresConnection, before deadline: ContinuousClock.Instant
    ) throws -> Bool {
        while ContinuousClock.now < deadline {
            let caught = try target.query(
                """
                SELECT coalesce(bool_and(latest_end_lsn >= $1::pg_lsn), false) AS caught FROM pg_stat_subscription
                WHERE subname = $2 AND relid IS NULL
                """, [lsn, names.replication])[0].bool("caught")
            if caught { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    /// Drops the move's subscription (and with it the source's slot), any slot left behind, and the publication.
    private func dropReplication(_ names: Names, source: PostgresConnection, target: PostgresConnection) throws {
        try target.execute(script: "DROP SUBSCRIPTION IF EXISTS \(names.replication)")
        try source.query(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
            [names.replication])
        try source.execute(script: "DROP PUBLICATION IF EXISTS \(names.replication)")
    }

    /// The schema's tables, qualified.
    private func tables(of schema: String, on connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", [schema]).all
            .map { "\(schema).\(try $0.string("tablename"))" }
    }

    /// The cluster's system identifier and the database's name: equal for two connections to one database.
    private func identity(of connection: PostgresConnection) throws -> String {
        try connection.query(
            "SELECT system_identifier::text || '/' || current_database() AS identity FROM pg_control_system()"
        )[0].string("identity")
    }

    private func exists(schema: String, on connection: PostgresConnection) throws -> Bool {
        !(try connection.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]).isEmpty)
    }
}

extension Duration {
    /// Whole and fractional seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
