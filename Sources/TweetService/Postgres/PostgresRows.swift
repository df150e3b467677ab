/// The rows a statement returned, copied out of libpq's result so that it can cross threads.
/// Values are in PostgreSQL's text format; `nil` is SQL NULL.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows a command affected (`INSERT`, `UPDATE`, `DELETE`).
    public let affectedRows: Int

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    public subscript(row: Int) -> PostgresRow {
        PostgresRow(columns: columns, values: rows[row])
    }

    public var all: [PostgresRow] {
        rows.map { PostgresRow(columns: columns, values: $0) }
    }
}

/// One row, read by column name.
public struct PostgresRow: Sendable {
    let columns: [String]
    let values: [String?]

    public func string(_ column: String) throws(PostgresError) -> String {
        guard let value = optionalString(column) else {
            throw PostgresError(.queryFailed, "column \(column) is NULL or missing")
        }
        return value
    }

    public func optionalString(_ column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return values[index]
    }

    public func int64(_ column: String) throws(PostgresError) -> Int64 {
        let text = try string(column)
        guard let value = Int64(text) else {
            throw PostgresError(.queryFailed, "column \(column) is not an integer: \(text)")
        }
        return value
    }

    public func optionalInt64(_ column: String) -> Int64? {
        optionalString(column).flatMap { Int64($0) }
    }

    public func bool(_ column: String) throws(PostgresError) -> Bool {
        try string(column) == "t"
    }
}
