/// The error every Wire call can fail with: a stable ``Code``, a machine-readable `reason` and a human message.
///
/// The code and the reason are safe to log and to use as metric labels; the message is meant for people and never
/// carries internals such as SQL or stack traces.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error class. Its raw value is what travels in an error frame; its name is what logs and APIs show.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt16

        public init(rawValue: UInt16) {
            self.rawValue = rawValue
        }

        public static let notFound = Code(rawValue: 1)
        public static let invalidArgument = Code(rawValue: 2)
        public static let unauthenticated = Code(rawValue: 3)
        public static let permissionDenied = Code(rawValue: 4)
        public static let unavailable = Code(rawValue: 5)
        public static let deadlineExceeded = Code(rawValue: 6)
        public static let resourceExhausted = Code(rawValue: 7)
        public static let `internal` = Code(rawValue: 8)
        public static let alreadyExists = Code(rawValue: 9)

        /// The snake_case name of the code; `unknown_<n>` for a code this build does not know.
        public var description: String {
            switch rawValue {
            case 1: "not_found"
            case 2: "invalid_argument"
            case 3: "unauthenticated"
            case 4: "permission_denied"
            case 5: "unavailable"
            case 6: "deadline_exceeded"
            case 7: "resource_exhausted"
            case 8: "internal"
            case 9: "already_exists"
            default: "unknown_\(rawValue)"
            }
        }
    }

    public var code: Code
    /// A snake_case detail under the code, such as `invalid_username` or `truncated`; empty when there is none.
    public var reason: String
    public var message: String

    public init(_ code: Code, reason: String = "", _ message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    public var description: String {
        reason.isEmpty ? "\(code): \(message)" : "\(code)/\(reason): \(message)"
    }
}

extension WireError {
    /// Input ended before a value it promised.
    static func truncated(_ what: String) -> WireError {
        WireError(.invalidArgument, reason: "truncated", "input ends inside \(what)")
    }

    /// The peer broke the framing or the handshake; the connection cannot continue.
    static func protocolViolation(_ reason: String, _ message: String) -> WireError {
        WireError(.invalidArgument, reason: reason, message)
    }

    /// No connection to any endpoint could carry the request.
    public static func unavailable(_ message: String) -> WireError {
        WireError(.unavailable, message)
    }

    public static let deadlineExceeded = WireError(.deadlineExceeded, "the request's deadline passed")

    /// The reason of the error a client throws, without sending, for a request larger than the server's frame limit.
    public static let frameTooLargeReason = "frame_too_large"
}
