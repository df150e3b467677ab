import Logging
import TweetService

/// PostgreSQL's own count of the work its servers did for one database (`pg_stat_database`), summed over servers:
/// what tells how much load moved from primaries to replicas, whoever caused it.
struct ServerStatistics: Sendable {
    /// Committed transactions (every statement outside a transaction is one) and tuples read (`tup_returned`:
    /// rows scanned, `tup_fetched`: rows fetched by index).
    struct Counts: Sendable {
        var transactions: Int64 = 0
        var tuples: Int64 = 0

        static func - (after: Counts, before: Counts) -> Counts {
            Counts(transactions: after.transactions - before.transactions, tuples: after.tuples - before.tuples)
        }
    }

    private let pools: [PostgresPool]

    init(urls: [String], logger: Logger) {
        pools = urls.map {
            PostgresPool(configuration: PostgresPool.Configuration(conninfo: $0, connections: 1), logger: logger)
        }
    }

    /// The counters now, summed over the servers.
    func counts() async throws -> Counts {
        var total = Counts()
        for pool in pools {
            let row = try await pool.withConnection { connection in
                try connection.query(
                    """
                    SELECT xact_commit, tup_returned + tup_fetched AS tuples FROM pg_stat_database
                    WHERE datname = current_database()
                    """
                )[0]
            }
            total.transactions += try row.int64("xact_commit")
            total.tuples += try row.int64("tuples")
        }
        return total
    }

    func shutdown() async throws {
        for pool in pools {
            try await pool.shutdown()
        }
    }
}
