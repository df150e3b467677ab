import Logging
import Metrics
import Prometheus
import Testing

@testable import Wire

extension LiveWireTests {
    @Suite("Metrics over Wire")
    struct ReadMetricsTests {
        @Test func metricsRecordedInTheProcessAreServedAsPrometheusText() async throws {
            let registry = PrometheusCollectorRegistry()
            let factory = PrometheusMetricsFactory(registry: registry)
            Counter(label: "test_requests_total", dimensions: [("route", "echo")], factory: factory).increment(by: 3)
            var router = WireRouter()
            router.registerMetrics { registry.emitToString() }
            let server = try await WireServer.bind(
                configuration: WireServerConfiguration(serverName: "metrics", keys: testKeys), router: router,
                logger: Logger(label: "metrics"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let client = testClient(ports: [server.port], role: .operator)
                let text = try await client.call(ReadMetrics.self, WireEmpty()).text
                #expect(text.contains("# TYPE test_requests_total counter"))
                #expect(text.contains(#"test_requests_total{route="echo"} 3"#))
                client.closeConnections()
                group.cancelAll()
            }
        }
    }
}
