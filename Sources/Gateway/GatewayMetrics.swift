import Prometheus
import Synchronization

/// The Gateway's measurements, kept in a Prometheus registry and served as text on `/metrics`.
///
/// - `gateway_http_requests_total{route,method,status}` and `gateway_http_request_duration_seconds{...}`: every
///   answered request, by route template (`/api/v1/users/{id}`, or `unmatched`), never by raw path, so the number of
///   series stays bounded whatever clients send.
/// - `gateway_http_requests_in_flight`: requests being answered right now.
/// - `gateway_upstream_request_duration_seconds{service,method,outcome}`: every Wire call, `outcome` being `ok` or
///   the Wire error code.
///
/// Hand the same registry to `PrometheusMetricsFactory` to add what the libraries report through swift-metrics.
public final class GatewayMetrics: Sendable {
    /// The label values of one series: route, method and status, or service, method and outcome.
    private struct SeriesKey: Hashable {
        var first: String
        var second: String
        var third: String
    }

    public let registry: PrometheusCollectorRegistry
    private let inFlight: Gauge
    /// The registry validates names and labels on every lookup; these remember its answers. Both stay small: the
    /// label values come from fixed sets (route templates, methods the HTTP parser knows, statuses, Wire codes).
    private let requestSeries = Mutex<[SeriesKey: (Counter, DurationHistogram)]>([:])
    private let upstreamSeries = Mutex<[SeriesKey: DurationHistogram]>([:])

    /// From 0.5 ms (a cached read) to 10 s (past every deadline).
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    // Computed: `MetricNameDescriptor` is not `Sendable`, so it cannot be a shared constant.
    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests answered, by route template, method and status."
        )
    }

    private static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "Time from request head to response, by route template, method and status."
        )
    }

    private static var requestsInFlight: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "http", metricName: "requests_in_flight", unitName: "",
            helpText: "HTTP requests being answered."
        )
    }

    private static var upstreamDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "gateway", subsystem: "upstream", metricName: "request_duration", unitName: "seconds",
            helpText: "Wire calls to the services, by service, method and outcome (ok or the Wire error code)."
        )
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        inFlight = registry.makeGauge(descriptor: Self.requestsInFlight)
    }

    func requestStarted() {
        inFlight.increment()
    }

    /// Counts one answered request and its latency.
    func requestFinished(route: String, method: String, status: Int, duration: Duration) {
        inFlight.decrement()
        let key = SeriesKey(first: route, second: method, third: String(status))
        let (count, latency) = requestSeries.withLock { series in
            if let known = series[key] { return known }
            let labels = [("route", route), ("method", method), ("status", key.third)]
            let made = (
                registry.makeCounter(descriptor: Self.requests, labels: labels),
                registry.makeDurationHistogram(
                    descriptor: Self.requestDuration, labels: labels, buckets: Self.latencyBuckets)
            )
            series[key] = made
            return made
        }
        count.increment()
        latency.record(duration)
    }

    /// Records one Wire call.
    func upstreamCallFinished(service: String, method: String, outcome: String, duration: Duration) {
        let key = SeriesKey(first: service, second: method, third: outcome)
        let latency = upstreamSeries.withLock { series in
            if let known = series[key] { return known }
            let labels = [("service", service), ("method", method), ("outcome", outcome)]
            let made = registry.makeDurationHistogram(
                descriptor: Self.upstreamDuration, labels: labels, buckets: Self.latencyBuckets)
            series[key] = made
            return made
        }
        latency.record(duration)
    }

    /// Everything in the registry, in the Prometheus text format.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
