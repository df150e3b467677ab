import Metrics
import NIOCore

/// Maps method ids to handlers. Built once at startup, then shared read-only by every connection.
public struct WireRouter: Sendable {
    typealias Handler = @Sendable (ByteBuffer, WireRequestContext) async throws -> ByteBuffer

    struct Route: Sendable {
        let name: String
        let callers: WireCallers
        let handler: Handler
        let duration: Metrics.Timer
    }

    private(set) var routes: [WireMethodID: Route] = [:]

    public init() {}

    /// Serves `method` with `handler`, which sees only requests within the method's bounds
    /// (``WireMethod/checkBounds(_:)``). A handler reports failure by throwing ``WireError``; anything else it throws
    /// is logged and answered as `internal` without details.
    public mutating func register<Method: WireMethod>(
        _ method: Method.Type,
        handler: @escaping @Sendable (Method.Request, WireRequestContext) async throws -> Method.Response
    ) {
        precondition(routes[Method.id] == nil, "method \(Method.id) registered twice")
        routes[Method.id] = Route(
            name: Method.name,
            callers: Method.callers,
            handler: { payload, context in
                let request = try Method.Request(payload: payload)
                try Method.checkBounds(request)
                return try await handler(request, context).payload()
            },
            duration: Metrics.Timer(
                label: "wire_server_request_duration_seconds", dimensions: [("method", Method.name)])
        )
    }

    func route(for method: WireMethodID) -> Route? {
        routes[method]
    }
}
