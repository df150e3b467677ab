import Logging

/// What a method handler knows about the request it serves.
public struct WireRequestContext: Sendable {
    /// The trace the caller sent; also set as ``WireTraceID/current`` while the handler runs.
    public var traceID: WireTraceID
    /// When the caller stops waiting. Work past it is wasted: the server has already answered `deadline_exceeded`.
    public var deadline: ContinuousClock.Instant
    /// The role the caller proved its connection in; the router has already checked it may call this method.
    public var callerRole: WirePeerRole
    /// A logger with `trace_id` and `method` metadata.
    public var logger: Logger
}
