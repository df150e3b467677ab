import ArgumentParser
import Foundation
import Logging
import TweetService
import Wire

/// `replica-reads`: how much of the read load of fan-out and home rebuilds leaves the primaries when the streaming
/// replicas serve the lag-tolerant reads, measured by PostgreSQL's own counters (`pg_stat_database`) on every primary
/// and replica, beside a baseline run of the same workload with no replica.
struct ReplicaReadsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica-reads",
        abstract: "Primary load of fan-out and home rebuilds with the reads on replicas, against a run without them."
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Comma-separated libpq URLs of the replicas, aligned with --pg-urls ($TWEETER_PG_REPLICA_URLS).")
    var replicaURLs: String = ProcessInfo.processInfo.environment["TWEETER_PG_REPLICA_URLS"] ?? ""

    @Option(help: "Authors, spread over the logical shards.")
    var authors: Int = 20

    @Option(help: "Synthetic followers of each author (fan-out reads them in pages of 5,000).")
    var followers: Int = 12_000

    @Option(help: "Readers, each following every author, whose homes are rebuilt.")
    var readers: Int = 40

    @Option(help: "Rounds of the workload in each phase: a tweet, its fan-out's follower pages, a home rebuild.")
    var rounds: Int = 300

    @Option(help: "Rounds run at once.")
    var concurrency: Int = 4

    func validate() throws {
        guard authors > 0, followers > 0, readers > 0, rounds > 0, concurrency > 0 else {
            throw ValidationError("counts must be positive")
        }
        guard replicaURLs.split(separator: ",").count == servers.serverURLs.count else {
            throw ValidationError("--replica-urls needs one replica per server of --pg-urls")
        }
    }

    func run() async throws {
        let (logger, scratch) = try startBenchmark("replica-reads")
        defer { scratch.remove() }
        try await TweetServiceHarness.with(servers, scratch: scratch, logger: logger) { harness in
            let workload = try await ReplicaWorkload.make(
                harness: harness, authors: authors, followers: followers, readers: readers)
            let replicaURLs = replicaURLs.split(separator: ",").map {
                BenchmarkDatabase.url(String($0), database: servers.database)
            }
            let primaryStats = ServerStatistics(urls: harness.serverURLs, logger: logger)
            let replicaStats = ServerStatistics(urls: replicaURLs, logger: logger)
            // The baseline names no replica, so that its reads are counted as the replicated run's are.
            let noReads = ReplicaReads(
                primaries: harness.serverURLs,
                configuration: ReplicaReads.Configuration(replicas: replicaURLs.map { _ in nil }), logger: logger)
            let reads = ReplicaReads(
                primaries: harness.serverURLs, configuration: ReplicaReads.Configuration(replicas: replicaURLs),
                logger: logger)
            let (unreplicated, replicated) = (database(harness, noReads, logger), database(harness, reads, logger))
            let phases = try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await ReplicaMonitor(reads: reads).run() }
                defer { group.cancelAll() }
                let baseline = try await measure(
                    "primaries only", database: unreplicated, reads: noReads, workload: workload,
                    primaries: primaryStats, replicas: replicaStats)
                let withReplicas = try await measure(
                    "replicas", database: replicated, reads: reads, workload: workload, primaries: primaryStats,
                    replicas: replicaStats)
                return (baseline, withReplicas)
            }
            report()
            report(
                "## lag-tolerant reads of \(rounds) rounds (a tweet, its fan-out's follower pages of \(followers) "
                    + "followers, a rebuild of a home following \(authors) authors), \(concurrency) at once")
            report()
            let table = MarkdownTable(
                [
                    "phase", "primaries: xact", "primaries: tuples read", "replicas: xact", "replicas: tuples read",
                    "reads on replicas / primaries", "wall s",
                ], rightAligned: [1, 2, 3, 4, 5, 6])
            for phase in [phases.0, phases.1] {
                table.row([
                    phase.name, "\(phase.primaries.transactions)", "\(phase.primaries.tuples)",
                    "\(phase.replicas.transactions)", "\(phase.replicas.tuples)", phase.served,
                    fixed(phase.seconds, decimals: 1),
                ])
            }
            report()
            report(
                "primary load with replicas / without: transactions "
                    + ratio(phases.1.primaries.transactions, phases.0.primaries.transactions) + ", tuples read "
                    + ratio(phases.1.primaries.tuples, phases.0.primaries.tuples))
            for (database, reads) in [(unreplicated, noReads), (replicated, reads)] {
                try await database.shutdown()
                try await reads.shutdown()
            }
            try await primaryStats.shutdown()
            try await replicaStats.shutdown()
        }
    }

    /// One phase's work and what it cost each kind of server.
    private struct Phase {
        var name: String
        var primaries: ServerStatistics.Counts
        var replicas: ServerStatistics.Counts
        var served: String
        var seconds: Double
    }

    /// A store on the benchmark database with `reads` for its lag-tolerant reads.
    private func database(_ harness: TweetServiceHarness, _ reads: ReplicaReads, _ logger: Logger) -> ShardedDatabase {
        ShardedDatabase(
            servers: harness.serverURLs, shardMap: harness.database.shardMap,
            connectionsPerServer: servers.pgConnections, replicas: reads, logger: logger)
    }

    private func measure(
        _ name: String, database: ShardedDatabase, reads: ReplicaReads, workload: ReplicaWorkload,
        primaries: ServerStatistics, replicas: ServerStatistics
    ) async throws -> Phase {
        let (primariesBefore, replicasBefore) = (try await primaries.counts(), try await replicas.counts())
        let clock = ContinuousClock()
        let started = clock.now
        try await workload.run(rounds: rounds, concurrency: concurrency, database: database)
        let seconds = (clock.now - started).inSeconds
        // An idle backend reports its counters within 10 s (PGSTAT_IDLE_INTERVAL); the pools' connections stay open.
        try await Task.sleep(for: .seconds(11))
        let (primariesAfter, replicasAfter) = (try await primaries.counts(), try await replicas.counts())
        report("# \(name): \(rounds) rounds in \(fixed(seconds, decimals: 1)) s")
        return Phase(
            name: name, primaries: primariesAfter - primariesBefore, replicas: replicasAfter - replicasBefore,
            served: "\(reads.readsServedByReplicas) / \(reads.readsServedByPrimaries)", seconds: seconds)
    }

    private func ratio(_ part: Int64, _ whole: Int64) -> String {
        whole == 0 ? "n/a" : fixed(Double(part) / Double(whole), decimals: 3)
    }
}
