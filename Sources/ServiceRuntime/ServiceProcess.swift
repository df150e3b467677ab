import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// The start-up path the three executables share: logging to standard error at one level, Prometheus metrics behind
/// swift-metrics, and a service group that shuts down gracefully on SIGTERM and SIGINT.
public struct ServiceProcess: Sendable {
    public let logger: Logger
    /// The registry behind the process's metrics, for `read_metrics` and the Gateway's `/metrics`.
    public let metrics: PrometheusCollectorRegistry

    /// Bootstraps logging and metrics; call once, first thing in `run()`.
    public static func bootstrap(label: String, logLevel: Logger.Level = .info) -> ServiceProcess {
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, logLevel: logLevel) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return ServiceProcess(logger: Logger(label: label), metrics: registry)
    }

    /// The metrics in Prometheus text format, for `read_metrics`.
    public var metricsExposition: @Sendable () -> String {
        { [metrics] in metrics.emitToString() }
    }

    /// Runs `services` until SIGTERM or SIGINT, then shuts them down gracefully in reverse order; with
    /// `TWEETER_STOP_WITH_PARENT` in the environment, also once that process is no longer the parent
    /// (``ParentWatch``).
    public func run(_ services: [any Service]) async throws {
        let watch = ParentWatch(environment: ProcessInfo.processInfo.environment, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services + (watch.map { [$0] } ?? []), gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
