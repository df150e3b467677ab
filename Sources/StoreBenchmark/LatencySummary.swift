import BenchmarkSupport
import Histogram

/// Count, rate and percentiles of one measurement, whoever took it: our closed loop, pgbench's per-transaction
/// log, or redis-benchmark's own summary.
struct LatencySummary: Sendable {
    /// Latencies above this (a minute, in nanoseconds) are counted at this value.
    static let highestTrackableNanoseconds: UInt64 = 60_000_000_000

    var count: Int
    var perSecond: Double
    var p50Nanoseconds: UInt64
    var p99Nanoseconds: UInt64
    var errors: Int

    init(count: Int, perSecond: Double, p50Nanoseconds: UInt64, p99Nanoseconds: UInt64, errors: Int = 0) {
        self.count = count
        self.perSecond = perSecond
        self.p50Nanoseconds = p50Nanoseconds
        self.p99Nanoseconds = p99Nanoseconds
        self.errors = errors
    }

    /// Percentiles from every latency, through an HdrHistogram (3 significant digits).
    init(latencies: [UInt64], perSecond: Double, errors: Int = 0) {
        var histogram = Histogram<UInt64>(
            highestTrackableValue: Self.highestTrackableNanoseconds, numberOfSignificantValueDigits: .three
        )
        for latency in latencies {
            histogram.record(min(max(latency, 1), Self.highestTrackableNanoseconds))
        }
        self.init(
            count: latencies.count, perSecond: perSecond, p50Nanoseconds: histogram.valueAtPercentile(50),
            p99Nanoseconds: histogram.valueAtPercentile(99), errors: errors
        )
    }

    /// The summary of a closed loop; the first failure, if any, is printed (a failure ends its worker).
    init(_ result: ClosedLoopResult) {
        self.init(latencies: result.latencies, perSecond: result.callsPerSecond, errors: result.errors)
        if let firstError = result.firstError {
            report("# \(result.errors) calls failed; the first: \(firstError)")
        }
    }

    var p50Milliseconds: String { fixed(Double(p50Nanoseconds) / 1e6, decimals: 2) }
    var p99Milliseconds: String { fixed(Double(p99Nanoseconds) / 1e6, decimals: 2) }
    var rate: String { String(Int(perSecond.rounded())) }
}

/// `value` with exactly `decimals` digits after the point, without Foundation's formatters.
func fixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((abs(value) * Double(scale)).rounded())
    let sign = value < 0 && scaled != 0 ? "-" : ""
    let whole = String(scaled / scale)
    guard decimals > 0 else { return sign + whole }
    let fraction = String(scaled % scale)
    return sign + whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

/// `ours / baseline` to two decimals, or `n/a` without a baseline.
func ratio(_ ours: Double, _ baseline: Double) -> String {
    baseline > 0 ? fixed(ours / baseline, decimals: 2) : "n/a"
}

/// A Markdown table, printed as it is built so that a long run shows its rows as they come.
struct MarkdownTable {
    let columns: [String]

    /// Prints the header; `rightAligned` columns hold numbers.
    init(_ columns: [String], rightAligned: Set<Int>) {
        self.columns = columns
        report("| " + columns.joined(separator: " | ") + " |")
        report(
            "| " + columns.indices.map { rightAligned.contains($0) ? "---:" : "---" }.joined(separator: " | ") + " |")
    }

    func row(_ cells: [String]) {
        precondition(cells.count == columns.count, "a row needs \(columns.count) cells")
        report("| " + cells.joined(separator: " | ") + " |")
    }
}
