/// The error every Redis call can fail with: a stable ``Code`` and a human message.
///
/// The code is safe to log and to use as a metric label. The message says what happened (for ``Code/serverError``
/// it is the server's own error text, e.g. `WRONGTYPE Operation against a key holding the wrong kind of value`);
/// it never contains command arguments or values.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable class of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case connectionClosed = "connection_closed"
            case protocolError = "protocol_error"
            case replyTooLarge = "reply_too_large"
            case serverError = "server_error"
            case clusterDown = "cluster_down"
            case tooManyRedirects = "too_many_redirects"
            case crossSlot = "cross_slot"
            case timeout = "timeout"
            case unavailable = "unavailable"
            case notReplicated = "not_replicated"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The connection closed (or was closed after a failure) before the reply arrived. The command may or may
        /// not have run.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server sent bytes that are not RESP; the connection is closed.
        public static let protocolError = Code(.protocolError)
        /// A reply exceeded the configured size limits; the connection is closed.
        public static let replyTooLarge = Code(.replyTooLarge)
        /// The server answered with an error reply; the message is its text.
        public static let serverError = Code(.serverError)
        /// The cluster reported `CLUSTERDOWN`, or no node could tell which node serves a slot.
        public static let clusterDown = Code(.clusterDown)
        /// A command was still redirected (`MOVED`, `ASK`, `TRYAGAIN`) after the configured number of retries.
        public static let tooManyRedirects = Code(.tooManyRedirects)
        /// The keys of one command hash to different slots, which a cluster cannot serve.
        public static let crossSlot = Code(.crossSlot)
        /// No reply within the command timeout; the connection is closed because later replies could no longer be
        /// matched to their commands.
        public static let timeout = Code(.timeout)
        /// No connection to the node could be made, or the client has shut down.
        public static let unavailable = Code(.unavailable)
        /// Fewer replicas than a ``RedisReplication`` asked for confirmed the writes in time. The writes ran on the
        /// master and may or may not survive its failure.
        public static let notReplicated = Code(.notReplicated)

        /// The snake_case name, e.g. `too_many_redirects`.
        public var description: String { base.rawValue }
    }

    /// The class of failure.
    public var code: Code
    /// What happened, for people.
    public var message: String

    /// Creates an error of class `code`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension RedisError {
    public static func connectionClosed(_ detail: String = "the connection to Redis closed") -> RedisError {
        RedisError(.connectionClosed, detail)
    }

    public static func protocolError(_ detail: String) -> RedisError {
        RedisError(.protocolError, detail)
    }

    public static func serverError(_ text: String) -> RedisError {
        RedisError(.serverError, text)
    }

    public static func unavailable(_ detail: String) -> RedisError {
        RedisError(.unavailable, detail)
    }

    /// The error a single-command API throws for an error reply: `CLUSTERDOWN` gets its own code.
    public static func fromReply(_ text: String) -> RedisError {
        text.hasPrefix("CLUSTERDOWN") ? RedisError(.clusterDown, text) : .serverError(text)
    }
}
