import Metrics
import NIOCore

/// Maps method ids to handlers. Built once at startup, then shared read-only by every connection.
public struct WireRouter: Sendable {
    /// How a route answers.
    enum Handler: Sendable {
        /// Runs on the connection's event loop and answers at once: no task, no hop between threads.
        case inline(@Sendable (ByteBuffer, WireRequestContext) throws -> ByteBuffer)
        /// Runs in a task of its own, which the request's deadline cancels.
        case async(@Sendable (ByteBuffer, WireRequestContext) async throws -> ByteBuffer)
    }

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
    ///
    /// Each request runs in a task of its own; the request's deadline cancels it.
    public mutating func register<Method: WireMethod>(
        _ method: Method.Type,
        handler: @escaping @Sendable (Method.Request, WireRequestContext) async throws -> Method.Response
    ) {
        add(
            Method.self,
            .async { payload, context in
                let request = try Method.Request(payload: payload)
                try Method.checkBounds(request)
                return try await handler(request, context).payload()
            })
    }

    /// Serves `method` with a synchronous `handler` that the connection's event loop runs as soon as the request is
    /// decoded, with no task and no hop between threads: the cheapest way to answer.
    ///
    /// Only for work that takes microseconds and never waits (answers from memory): while it runs, the event loop
    /// serves no other connection. The request's deadline cannot interrupt it. Bounds, errors and roles are handled as
    /// for ``register(_:handler:)``.
    public mutating func registerInline<Method: WireMethod>(
        _ method: Method.Type,
        handler: @escaping @Sendable (Method.Request, WireRequestContext) throws -> Method.Response
    ) {
        add(
            Method.self,
            .inline { payload, context in
                let request = try Method.Request(payload: payload)
                try Method.checkBounds(request)
                return try handler(request, context).payload()
            })
    }

    private mutating func add<Method: WireMethod>(_ method: Method.Type, _ handler: Handler) {
        precondition(routes[Method.id] == nil, "method \(Method.id) registered twice")
        routes[Method.id] = Route(
            name: Method.name,
            callers: Method.callers,
            handler: handler,
            duration: Metrics.Timer(
                label: "wire_server_request_duration_seconds", dimensions: [("method", Method.name)])
        )
    }

    func route(for method: WireMethodID) -> Route? {
        routes[method]
    }
}
