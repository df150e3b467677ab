import Foundation
import Testing
import Wire
import WireTestSupport

/// `docs/wire.md`'s "Who may call what" is the table operators read; the code is what servers enforce. They agree.
@Suite("Caller table")
struct CallerTableTests {
    @Test func theDocumentedTableIsTheEnforcedOne() throws {
        let docs = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../docs/wire.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(
            text.components(separatedBy: "### Who may call what").last?.components(separatedBy: "###").first)
        var documented: [UInt16: (name: String, roles: Set<String>)] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 3, let id = UInt16(cells[0]) else { continue }
            documented[id] = (cells[1], Set(cells[2].components(separatedBy: ", ")))
        }
        #expect(documented.count == WireMethodCatalog.all.count, "one row per method")
        for method in WireMethodCatalog.all {
            let row = documented[method.id.rawValue]
            #expect(row?.name == method.name, "method \(method.id)")
            let enforced = Set(WirePeerRole.allCases.filter { method.callers.allows($0) }.map(\.rawValue))
            #expect(row?.roles == enforced, "\(method.name)")
        }
    }
}
