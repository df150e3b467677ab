import Foundation

/// The "Request bounds" table of `docs/wire.md`: one row per bounded field of each method, or one "fixed size" row for
/// a method with nothing to bound.
public struct RequestBoundsTable: Sendable {
    public struct Row: Sendable, Hashable {
        public var method: String
        /// The request field, `—` for a fixed-size request.
        public var field: String
        public var bound: String
        /// The reason a request past the bound is refused with (`invalid_argument/<reason>`), `—` for none.
        public var reason: String

        public var isFixedSize: Bool { bound == "fixed size" }
    }

    public var rows: [Row]

    /// Reads the table from the checked-in `docs/wire.md`.
    public static func documented() throws -> RequestBoundsTable {
        let docs = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../docs/wire.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = text.components(separatedBy: "## Request bounds").dropFirst().first?.components(
            separatedBy: "\n## "
        ).first
        var rows: [Row] = []
        for line in (section ?? "").split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 4, cells[0] != "method" else { continue }
            rows.append(Row(method: cells[0], field: cells[1], bound: cells[2], reason: cells[3]))
        }
        return RequestBoundsTable(rows: rows)
    }

    /// `method field` for every row that bounds something of a method whose id is in `ids` (a service's range), e.g.
    /// `get_users ids`: what that service's bounds tests must cover.
    public func boundedFields(ofMethodsIn ids: Range<UInt16>) -> Set<String> {
        let served = Set(WireMethodCatalog.all.filter { ids.contains($0.id.rawValue) }.map { $0.name })
        return Set(rows.filter { !$0.isFixedSize && served.contains($0.method) }.map { "\($0.method) \($0.field)" })
    }
}
