import InfraTestSupport

/// The servers under the system, driven through `scripts/infra` with the environment the tests run in (so with the
/// same `TWEETER_PG_PORTS`, `TWEETER_REDIS_PORTS` and `TWEETER_DATA_DIR` as the servers `scripts/test` started).
enum Infrastructure {
    /// Stops PostgreSQL server `number` (1-based, as `scripts/infra` counts) in fast mode.
    static func stopPostgres(_ number: Int) async throws {
        try await ScriptsInfra.run("pg-stop", String(number))
    }

    /// Starts PostgreSQL server `number` (1-based) and waits until it accepts connections.
    static func startPostgres(_ number: Int) async throws {
        try await ScriptsInfra.run("pg-start", String(number))
    }

    /// Stops the streaming replica of PostgreSQL server `number` (1-based) in fast mode.
    static func stopReplica(_ number: Int) async throws {
        try await ScriptsInfra.run("pg-replica-stop", String(number))
    }

    /// Starts the replica of PostgreSQL server `number` (1-based) and waits until it streams from its primary.
    static func startReplica(_ number: Int) async throws {
        try await ScriptsInfra.run("pg-replica-start", String(number))
    }
}
