import Foundation

/// pgbench running one custom script against one server: the raw rate and latency of a statement, with no service in
/// front of it.
///
/// It runs with `-n` (no vacuum of its own tables, which the benchmark database does not have) and
/// `-M extended` (the extended query protocol, as libpq's `PQexecParams` in the TweetService uses), and logs every
/// transaction (`-l`) so that the percentiles come from the same HdrHistogram as ours.
struct Pgbench: Sendable {
    var executable: String
    var url: String
    var clients: Int
    var threads: Int
    var seconds: Int

    struct Result: Sendable {
        var summary: LatencySummary
        var commandLine: String
    }

    /// Runs `script` (pgbench syntax; `:client_id` is the client's number) for ``seconds``.
    func run(script: String, name: String, scratch: ScratchDirectory) async throws -> Result {
        let scriptPath = try scratch.write(script, to: "\(name).sql")
        let logPrefix = "\(name)-log"
        let command = ExternalCommand(
            executable,
            [
                "-n", "-M", "extended", "-c", String(clients), "-j", String(threads), "-T", String(seconds),
                "-f", scriptPath, "-l", "--log-prefix=\(scratch.file(logPrefix))", url,
            ])
        let output = try await command.runChecked(outputPath: scratch.file("\(name).out"))
        guard let tps = Self.value(after: "tps = ", in: output).flatMap(Double.init) else {
            throw BenchmarkFailure("pgbench printed no tps:\n\(output)")
        }
        let failed = Self.value(after: "number of failed transactions: ", in: output).flatMap(Int.init) ?? 0
        var latencies: [UInt64] = []
        for log in scratch.files(startingWith: logPrefix) {
            // client_id transaction_no time_us script_no time_epoch time_us_in_epoch: the third is the latency.
            let text = try String(contentsOfFile: log, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count >= 3, let micros = UInt64(fields[2]) {
                    latencies.append(micros * 1000)
                }
            }
            try? FileManager.default.removeItem(atPath: log)
        }
        guard !latencies.isEmpty else {
            throw BenchmarkFailure("pgbench logged no transactions:\n\(output)")
        }
        return Result(
            summary: LatencySummary(latencies: latencies, perSecond: tps, errors: failed),
            commandLine: command.commandLine)
    }

    /// The word after `marker` on the line that contains it.
    private static func value(after marker: String, in output: String) -> String? {
        guard let range = output.range(of: marker) else { return nil }
        return output[range.upperBound...].split(whereSeparator: { $0 == " " || $0 == "\n" }).first.map(String.init)
    }
}
