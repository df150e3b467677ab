import ArgumentParser
import Logging
import TweetService

/// The streaming replicas that serve the TweetService's lag-tolerant reads (docs/tweet-store.md, "Read replicas").
struct ReplicaOptions: ParsableArguments {
    @Option(
        help: """
            Comma-separated libpq URLs of the servers' streaming replicas, aligned with --postgres (an empty entry: \
            that server has none). Empty: every read goes to the primaries.
            """)
    var postgresReplicas: String = ""

    @Option(help: "The most replay lag, in milliseconds, a replica may have and still serve reads.")
    var replicaMaxLagMs: Int = 1000

    func validate() throws {
        guard replicaMaxLagMs > 0 else {
            throw ValidationError("--replica-max-lag-ms must be positive")
        }
    }

    /// The replicas of `primaries`, or `nil` when none is named.
    func reads(primaries: [String], logger: Logger) throws -> ReplicaReads? {
        guard !postgresReplicas.isEmpty else { return nil }
        let replicas = postgresReplicas.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.isEmpty ? nil : String($0)
        }
        guard replicas.count == primaries.count else {
            throw ValidationError(
                "--postgres-replicas names \(replicas.count) servers, --postgres \(primaries.count); align them")
        }
        return ReplicaReads(
            primaries: primaries,
            configuration: ReplicaReads.Configuration(replicas: replicas, maxLag: .milliseconds(replicaMaxLagMs)),
            logger: logger)
    }
}
