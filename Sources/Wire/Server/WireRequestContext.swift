import Logging

/// What a method handler knows about the request it serves.
public struct WireRequestContext: Sendable {
    /// The trace the caller sent; also set as ``WireTraceID/current`` while the handler runs.
    public var traceID: WireTraceID
    /// When the caller stops waiting. Work past it is wasted: the server has already answered `deadline_exceeded`.
    public var deadline: ContinuousClock.Instant
    /// The role the caller proved its connection in; the router has already checked it may call this method.
    public var callerRole: WirePeerRole
    /// The method's name, for the logger's metadata.
    let methodName: String
    /// The connection's logger, without the request's metadata.
    let connectionLogger: Logger

    /// A logger with `trace_id` and `method` metadata. Made when asked for: most requests log nothing, and formatting
    /// the trace id for every one of them would cost more than serving a small request.
    public var logger: Logger {
        var logger = connectionLogger
        logger[metadataKey: "trace_id"] = "\(traceID)"
        logger[metadataKey: "method"] = "\(methodName)"
        return logger
    }
}
