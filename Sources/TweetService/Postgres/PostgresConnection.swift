import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection. Every call blocks, so a connection lives on a ``PostgresPool`` thread and is used by one
/// thread at a time; it never touches an event loop or the cooperative pool.
/// `@unchecked Sendable`: a ``PostgresPool`` hands each connection to one job at a time, so no two threads ever use
/// it at once; it only crosses threads between jobs, with the pool's lock as the fence.
public final class PostgresConnection: @unchecked Sendable {
    private let connection: OpaquePointer
    /// The ``PreparedStatement``s this connection has prepared, by name, with when each was last used. A new
    /// connection (after a broken one was dropped) starts empty, so its statements are prepared again on first use.
    private var prepared: [String: UInt64] = [:]
    private var uses: UInt64 = 0
    /// The most statements kept prepared; past it the least recently used is deallocated, so that a connection
    /// serving all 1024 shards holds plans for the shards it uses most, not server memory for every one.
    private let maxPrepared: Int

    /// Connects with a libpq connection string (`postgresql://user@host:port/db`).
    /// - Throws: ``PostgresError`` `unavailable` when the server cannot be reached.
    init(conninfo: String, maxPreparedStatements: Int = 256) throws(PostgresError) {
        guard let connection = PQconnectdb(conninfo) else {
            throw PostgresError(.unavailable, "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(.unavailable, message.trimmingTrailingNewlines)
        }
        self.connection = connection
        self.maxPrepared = max(1, maxPreparedStatements)
    }

    deinit {
        PQfinish(connection)
    }

    /// Whether the connection can still be used; a broken one is discarded by the pool.
    var isHealthy: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Runs one parameterised statement. Parameters travel separately from the SQL text, in text format.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        let result: OpaquePointer? = withCStrings(parameters) { values in
            PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs a prepared statement, preparing it first if this connection has not yet: one round trip once prepared,
    /// with no parsing or planning on the server. Names must be plain (letters, digits, `_` and `.`).
    /// - Throws: ``PostgresError``: what the preparation raised (the statement then does not run), or what the
    ///   statement raised.
    @discardableResult
    public func execute(_ statement: PreparedStatement, _ parameters: [String?] = []) throws(PostgresError)
        -> PostgresRows
    {
        if prepared[statement.name] == nil {
            if prepared.count >= maxPrepared, let oldest = prepared.min(by: { $0.value < $1.value })?.key {
                try consume(PQexec(connection, "DEALLOCATE \"\(oldest)\""))
                prepared[oldest] = nil
            }
            try consume(PQprepare(connection, statement.name, statement.sql, 0, nil))
        }
        uses += 1
        prepared[statement.name] = uses
        let result: OpaquePointer? = withCStrings(parameters) { values in
            PQexecPrepared(connection, statement.name, Int32(parameters.count), values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs several statements in one round trip, without parameters (for migrations).
    public func execute(script: String) throws(PostgresError) {
        try consume(PQexec(connection, script))
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        try query("BEGIN")
        do {
            let result = try body(self)
            try query("COMMIT")
            return result
        } catch {
            if isHealthy {
                _ = try? query("ROLLBACK")
            }
            throw error
        }
    }

    @discardableResult
    private func consume(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        guard let result else {
            throw PostgresError(.unavailable, String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return rows(of: result)
        default:
            let message = String(cString: PQresultErrorMessage(result)).trimmingTrailingNewlines
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            if !isHealthy || sqlState == nil || sqlState?.hasPrefix("08") == true || sqlState?.hasPrefix("57P") == true
            {
                throw PostgresError(.unavailable, sqlState: sqlState, message)
            }
            switch sqlState {
            case "23505": throw PostgresError(.uniqueViolation, sqlState: sqlState, message)
            case "55P03", "57014": throw PostgresError(.timedOut, sqlState: sqlState, message)
            default: throw PostgresError(.queryFailed, sqlState: sqlState, message)
            }
        }
    }

    private func rows(of result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            rows.append(
                (0..<Int32(columnCount)).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affectedRows: affected)
    }
}

/// Calls `body` with a C array of NUL-terminated copies of `strings` (NULL for `nil`), valid only during the call.
private func withCStrings<Result>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
    let copies = strings.map { $0.flatMap { strdup($0) } }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var text = self
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}
