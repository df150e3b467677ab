import ArgumentParser
import Logging
import Wire

/// `metrics`: prints a running service's metrics in the Prometheus text format. The TweetService and the
/// TimelineServices have no HTTP listener; they serve their metrics over Wire (`read_metrics`, to the operator role),
/// and this command is the operator's client for it: to look at a process, or for a scraper to run.
public struct ReadMetricsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print a running service's metrics (Prometheus text), read over Wire as the operator role."
    )

    @Option(help: "The service's Wire address, host:port (any service: the TweetService or a TimelineService).")
    public var endpoint: String

    @Option(help: "How long to wait for the answer, in seconds.")
    public var timeout: Int = 5

    @OptionGroup public var serviceKey: ServiceKeyOptions
    @OptionGroup public var wireTLS: WireTLSOptions

    public init() {}

    public func validate() throws {
        guard WireEndpoint(endpoint) != nil else {
            throw ValidationError("--endpoint takes host:port")
        }
        guard timeout > 0 else {
            throw ValidationError("--timeout must be at least 1 second")
        }
    }

    public func run() async throws {
        guard let address = WireEndpoint(endpoint) else {
            throw ValidationError("--endpoint takes host:port")
        }
        let client = WireClient(
            configuration: WireClientConfiguration(
                endpoints: [address], role: .operator, keys: try serviceKey.keys(),
                transportSecurity: try wireTLS.clientSecurity()),
            logger: Logger(label: "metrics")
        )
        defer { client.closeConnections() }
        let metrics = try await client.call(ReadMetrics.self, WireEmpty(), timeout: .seconds(timeout))
        print(metrics.text, terminator: "")
    }
}
