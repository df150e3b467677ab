import Foundation
import Logging
import TweetService
import Wire
import WireTestSupport

/// The streaming replicas under the system (`TWEETER_PG_REPLICA_URLS`), and what the running TweetService says of
/// them in its metrics: how many lag-tolerant reads each replica and each primary served, and the measured lag.
struct ReplicaProbe: Sendable {
    /// The reads of one physical server, as `tweet_service_replica_reads_total` counts them.
    struct Reads: Sendable, CustomStringConvertible {
        var byReplica = 0
        /// By the primary, by reason (`lagging`, `down`, `failed`, `behind`, `unmeasured`).
        var byPrimary: [String: Int] = [:]

        var description: String { "replica \(byReplica), primary \(byPrimary.sorted { $0.key < $1.key })" }
    }

    let tweetServicePort: Int

    /// The TweetService's metrics text, asked over Wire as an operator.
    func metrics() async throws -> String {
        let client = AnyRoleClient(
            endpoints: [WireEndpoint(host: "127.0.0.1", port: tweetServicePort)], logger: Logger(label: "fault-tests"))
        defer { client.closeConnections() }
        return try await client.call(ReadMetrics.self, WireEmpty()).text
    }

    /// The reads of physical server `server` (0-based) so far.
    func reads(onServer server: Int) async throws -> Reads {
        var reads = Reads()
        for (labels, value) in try samples(named: "tweet_service_replica_reads_total", in: try await metrics())
        where labels["server"] == String(server) {
            if labels["served_by"] == "replica" {
                reads.byReplica += Int(value)
            } else {
                reads.byPrimary[labels["reason", default: ""], default: 0] += Int(value)
            }
        }
        return reads
    }

    /// The replica lag of physical server `server` as last measured, in seconds.
    func lag(onServer server: Int) async throws -> Double? {
        try samples(named: "tweet_service_replica_lag_seconds", in: try await metrics())
            .first { $0.labels["server"] == String(server) }?.value
    }

    /// Stops replaying WAL on the replica of physical server `server` (it still serves what it has).
    static func pauseReplay(onServer server: Int) async throws {
        try await onReplica(server) { try $0.query("SELECT pg_wal_replay_pause()") }
    }

    static func resumeReplay(onServer server: Int) async throws {
        try await onReplica(server) { try $0.query("SELECT pg_wal_replay_resume()") }
    }

    private static func onReplica(
        _ server: Int, _ body: @escaping @Sendable (PostgresConnection) throws -> Void
    ) async throws {
        let urls = try FaultEnvironment.value("TWEETER_PG_REPLICA_URLS").split(separator: ",").map(String.init)
        let pool = PostgresPool(
            configuration: PostgresPool.Configuration(conninfo: urls[server]), logger: Logger(label: "fault-tests"))
        try await pool.withConnection(body)
        try await pool.shutdown()
    }

    /// The samples of metric `name` in Prometheus text: each one's labels and value.
    private func samples(named name: String, in text: String) throws -> [(labels: [String: String], value: Double)] {
        text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(name + "{"), let close = line.lastIndex(of: "}"),
                let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
            else { return nil }
            let body = line[line.index(line.startIndex, offsetBy: name.count + 1)..<close]
            var labels: [String: String] = [:]
            for pair in body.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            return (labels, value)
        }
    }
}
