import Hummingbird
import NIOCore

// Probes and metrics: `GET /healthz` (the process is up), `/readyz` (every service behind answers), `/metrics`.
extension APIHandlers {
    /// 200 `{"status": "ready"}` when the TweetService and the TimelineService both answer a health check within a
    /// second (any instance of each will do), else 503 `unavailable`.
    func readiness() async -> Response {
        guard await upstream.allReady() else {
            return APIError.unavailable("a service behind the gateway does not answer").response()
        }
        return .json(StatusJSON(status: "ready"))
    }

    /// The Prometheus text exposition of ``GatewayMetrics``.
    func metricsExposition() -> Response {
        let body = ByteBuffer(bytes: metrics.exposition())
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: body)
        )
    }
}
