import Logging

/// What a method handler knows about the request it serves.
public struct WireRequestContext: Sendable {
    /// The trace the caller sent; also set as ``WireTraceID/current`` while the handler runs.
    public var traceID: WireTraceID
    /// When the caller stops waiting. Work past it is wasted: the server has already answered `deadline_exceeded`.
    public var deadline: ContinuousClock.Instant
    /// The client's name from its hello.
    public var clientName: String
    /// A logger with `trace_id` and `method` metadata.
    public var logger: Logger
}
