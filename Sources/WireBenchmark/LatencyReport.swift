import BenchmarkSupport
import Histogram
import Wire

/// One cell of the table: one mode at one number of connections and one concurrency.
struct LatencyReport: Sendable {
    enum Mode: String, Sendable {
        case echo
        case wire
        /// Wire beneath mutual TLS (`--tls`).
        case wireTLS = "wire+tls"
    }

    /// Latencies above this (a minute, in nanoseconds) are counted at this value.
    static let highestTrackableNanoseconds: UInt64 = 60_000_000_000

    var mode: Mode
    var connections: Int
    var concurrency: Int
    var requests: Int
    var errors: Int
    var firstError: String?
    var requestsPerSecond: Double
    var p50Nanoseconds: UInt64
    var p99Nanoseconds: UInt64
    /// Wire requests/s over echo requests/s at the same connections and concurrency; only on Wire rows.
    var ratioToEcho: Double?
    /// Wire-over-TLS requests/s over plain Wire requests/s in the same cell; only on `wire+tls` rows.
    var ratioToPlainWire: Double?

    init(mode: Mode, connections: Int, concurrency: Int, result: ClosedLoopResult) {
        var histogram = Histogram<UInt64>(
            highestTrackableValue: Self.highestTrackableNanoseconds, numberOfSignificantValueDigits: .three
        )
        for latency in result.latencies {
            histogram.record(min(latency, Self.highestTrackableNanoseconds))
        }
        self.mode = mode
        self.connections = connections
        self.concurrency = concurrency
        self.requests = result.latencies.count
        self.errors = result.errors
        self.firstError = result.firstError
        self.requestsPerSecond = result.elapsed > .zero ? Double(result.latencies.count) / result.elapsed.inSeconds : 0
        self.p50Nanoseconds = histogram.valueAtPercentile(50)
        self.p99Nanoseconds = histogram.valueAtPercentile(99)
    }

    static let tableHeader = """
        | mode | connections | concurrency | requests | requests/s | p50 µs | p99 µs | Wire/echo req/s | TLS/plain Wire req/s | errors |
        | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
        """

    /// The cell as a Markdown table row.
    var tableRow: String {
        let ratio = ratioToEcho.map { fixed($0, decimals: 2) } ?? ""
        let tlsRatio = ratioToPlainWire.map { fixed($0, decimals: 2) } ?? ""
        return
            "| \(mode.rawValue) | \(connections) | \(concurrency) | \(requests) | \(Int(requestsPerSecond.rounded())) | "
            + "\(fixed(Double(p50Nanoseconds) / 1000, decimals: 1)) | \(fixed(Double(p99Nanoseconds) / 1000, decimals: 1)) | "
            + "\(ratio) | \(tlsRatio) | \(errors) |"
    }
}

/// `value` with exactly `decimals` digits after the point, without Foundation.
func fixed(_ value: Double, decimals: Int) -> String {
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * Double(scale)).rounded())
    let whole = String(scaled / scale)
    guard decimals > 0 else { return whole }
    let fraction = String(scaled % scale)
    return whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}
