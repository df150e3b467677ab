/// redis-benchmark running one command against one Redis node: the raw rate and latency with no service in front.
struct RedisBenchmark: Sendable {
    var executable: String
    var host: String
    var port: Int
    var clients: Int
    var requests: Int
    /// Commands each client sends before reading the answers (`-P`); 1 is no pipelining.
    var pipeline: Int
    /// Whether to spread the clients over every master (`--cluster`; a key then carries `{tag}`).
    var cluster = false
    /// How many distinct values `__rand_int__` in a key takes (`-r`); `nil` for none.
    var keySpace: Int?

    struct Result: Sendable {
        var summary: LatencySummary
        var commandLine: String
    }

    /// Runs `arguments` (a command and its arguments) and reads redis-benchmark's CSV summary:
    /// `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"`.
    func run(_ arguments: [String], scratch: ScratchDirectory) async throws -> Result {
        let command = ExternalCommand(
            executable,
            [
                "-h", host, "-p", String(port), "-c", String(clients), "-n", String(requests), "-P", String(pipeline),
                "--csv",
            ] + (cluster ? ["--cluster"] : []) + (keySpace.map { ["-r", String($0)] } ?? []) + arguments)
        let output = try await command.runChecked(outputPath: scratch.file("redis-benchmark.out"))
        // A server error (MOVED, WRONGTYPE) is printed but does not change the exit status.
        guard !output.contains("Error from server") else {
            throw BenchmarkFailure("\(command.commandLine) got errors from the server:\n\(output)")
        }
        let rows = output.split(separator: "\n").filter { $0.hasPrefix("\"") && !$0.hasPrefix("\"test\"") }
        let fields = rows.last.map { Self.csvFields($0) } ?? []
        guard fields.count >= 8, let rps = Double(fields[1]), let p50 = Double(fields[4]), let p99 = Double(fields[6])
        else {
            throw BenchmarkFailure("cannot read redis-benchmark's summary:\n\(output)")
        }
        let summary = LatencySummary(
            count: requests, perSecond: rps, p50Nanoseconds: UInt64((p50 * 1e6).rounded()),
            p99Nanoseconds: UInt64((p99 * 1e6).rounded())
        )
        return Result(summary: summary, commandLine: command.commandLine)
    }

    /// The fields of one CSV line whose fields are all quoted and hold no quotes.
    private static func csvFields(_ line: Substring) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { String($0.filter { $0 != "\"" }) }
    }
}
