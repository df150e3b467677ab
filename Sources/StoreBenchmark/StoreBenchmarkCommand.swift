import ArgumentParser
import Foundation
import Logging

/// Measures the tweet store and the timelines beside the raw tools for the same servers (pgbench, redis-benchmark),
/// each baseline run by the same process in the same minute. Every subcommand stops by itself and cleans up what it
/// wrote.
@main
struct StoreBenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-benchmark",
        abstract: "The tweet store and the timelines against pgbench and redis-benchmark, measured in the same run.",
        subcommands: [
            TweetsBenchmark.self, FanOutBenchmark.self, DeliveryBenchmark.self, ReadLatencyBenchmark.self,
            MemoryBenchmark.self, FollowerLatencyBenchmark.self, ReplicaReadsBenchmark.self,
        ]
    )
}

/// Where the servers are and which tools to run; shared by every subcommand.
struct ServerOptions: ParsableArguments {
    @Option(
        help: "Comma-separated libpq URLs of the PostgreSQL servers, in shard-map order (default: $TWEETER_PG_URLS).")
    var pgURLs: String =
        ProcessInfo.processInfo.environment["TWEETER_PG_URLS"]
        ?? "postgresql://postgres@127.0.0.1:55431/tweeter,postgresql://postgres@127.0.0.1:55432/tweeter"

    @Option(help: "Comma-separated host:port seeds of the Redis Cluster (default: $TWEETER_REDIS_CLUSTER).")
    var redis: String =
        ProcessInfo.processInfo.environment["TWEETER_REDIS_CLUSTER"]
        ?? "127.0.0.1:17001,127.0.0.1:17002,127.0.0.1:17003"

    @Option(help: "The benchmark's own database, created on every PostgreSQL server and dropped at the end.")
    var database: String = "tweeter_storebench"

    @Flag(help: "Keep the benchmark database (migrated, with its rows) for the next run instead of dropping it.")
    var keepDatabase = false

    @Option(help: "PostgreSQL connections (and threads) per server in the TweetService under test.")
    var pgConnections: Int = 8

    @Option(help: "pgbench executable.")
    var pgbench: String = "pgbench"

    @Option(help: "psql executable (creates and drops the benchmark database).")
    var psql: String = "psql"

    @Option(help: "redis-benchmark executable.")
    var redisBenchmark: String = "redis-benchmark"

    func validate() throws {
        let plain = database.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        guard !database.isEmpty, plain, !["tweeter", "postgres", "template0", "template1"].contains(database) else {
            throw ValidationError("--database takes a new name of a-z, 0-9 and _ (never the shared `tweeter`)")
        }
        guard pgConnections > 0 else { throw ValidationError("--pg-connections must be positive") }
    }

    var serverURLs: [String] {
        pgURLs.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    }
}

/// What went wrong, for the one line the benchmark prints before it exits non-zero.
struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` has them.
func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "? ? ?"
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// The header every subcommand prints: the machine and its load, so a table is never read without them.
func printMachineLine(_ name: String) {
    report(
        "# store-benchmark \(name): \(ProcessInfo.processInfo.activeProcessorCount) cores, loopback, "
            + "load average \(loadAverage()) at start")
}

/// What every subcommand starts with: its header line, a logger that lets warnings through, and a scratch folder for
/// the run's files (the caller removes it).
func startBenchmark(_ name: String) throws -> (Logger, ScratchDirectory) {
    var logger = Logger(label: "store-benchmark")
    logger.logLevel = .warning
    let scratch = try ScratchDirectory.make()
    printMachineLine(name)
    return (logger, scratch)
}

/// Prints a line of the report and flushes it at once, so that a long run shows its progress even into a pipe.
func report(_ line: String = "") {
    print(line)
    fflush(nil)
}
