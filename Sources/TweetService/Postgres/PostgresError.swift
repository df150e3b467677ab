/// A failure talking to PostgreSQL, with a stable code and, for server errors, the SQLSTATE.
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unavailable
            case queryFailed = "query_failed"
            case uniqueViolation = "unique_violation"
            case overloaded
            case timedOut = "timed_out"
        }

        private let base: Base

        /// The server cannot be reached, or the connection broke.
        public static let unavailable = Code(base: .unavailable)
        /// The server refused the statement; see ``PostgresError/sqlState``.
        public static let queryFailed = Code(base: .queryFailed)
        /// A unique constraint refused a row (SQLSTATE 23505).
        public static let uniqueViolation = Code(base: .uniqueViolation)
        /// Too many statements are already waiting for a connection to this server.
        public static let overloaded = Code(base: .overloaded)
        /// A bound ran out: no connection within the pool's wait limit, or the server cancelled the statement at
        /// `lock_timeout` or `statement_timeout` (SQLSTATE 55P03, 57014). The statement did not take effect.
        public static let timedOut = Code(base: .timedOut)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The five-character SQLSTATE, when the server sent one.
    public var sqlState: String?
    /// libpq's message. It may name tables and constraints, so it is for logs, never for API users.
    public var message: String

    public init(_ code: Code, sqlState: String? = nil, _ message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    /// The statement named a schema, or a table or function in one, that does not exist: on a shard's server, the
    /// sign that the shard moved away (SQLSTATE 3F000, 42P01, 42883).
    public var isMissingSchema: Bool {
        ["3F000", "42P01", "42883"].contains(sqlState ?? "")
    }

    public var description: String {
        "postgres \(code)\(sqlState.map { " [\($0)]" } ?? ""): \(message)"
    }
}
