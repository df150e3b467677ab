import Foundation
import Testing
import Wire
import WireTestSupport

/// `docs/wire.md`'s "Request bounds" covers every method, so that no method is added without deciding what bounds
/// its requests. (The service tests send each bound's maximum and one past it: `TweetServiceBoundsTests`,
/// `TimelineServiceBoundsTests`.)
@Suite("Request bounds table")
struct RequestBoundsTableTests {
    @Test func everyMethodDeclaredInWireIsInTheCatalog() throws {
        let methods = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Sources/Wire/Methods")
        let files = try #require(FileManager.default.enumerator(at: methods, includingPropertiesForKeys: nil))
        var declared: Set<String> = []
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains(": WireMethod {") {
                let name = line.split(separator: ":")[0].split(separator: " ").last.map(String.init)
                declared.insert(try #require(name))
            }
        }
        #expect(declared.count >= 23, "the scan finds the methods")
        #expect(declared == Set(WireMethodCatalog.all.map { String(describing: $0) }))
    }

    @Test func everyMethodHasADocumentedBoundOrIsFixedSize() throws {
        let table = try RequestBoundsTable.documented()
        let names = Set(WireMethodCatalog.all.map { $0.name })
        #expect(Set(table.rows.map(\.method)) == names, "a row for every method, and no row for anything else")
        for row in table.rows {
            if row.isFixedSize {
                #expect(row.field == "—" && row.reason == "—", "\(row.method)")
                #expect(
                    table.rows.filter { $0.method == row.method }.count == 1, "\(row.method): fixed size, or bounded")
            } else {
                let reasons = [
                    WireRequestBounds.invalidLimit, WireRequestBounds.tooManyIDs, WireRequestBounds.tooManyEvents,
                    "too_long",
                ]
                #expect(reasons.contains(row.reason), "\(row.method) \(row.field): \(row.reason)")
            }
        }
    }
}
