import Foundation
import NIOCore
import Testing
import Wire
import WireFuzzChecks
import WireTestSupport

/// Every seed of the fuzzer's corpus (`Fuzz/corpus`) once through the fuzzer's own checks, so that a codec change
/// that breaks on a known input fails here, without building or running the fuzzer (`docs/fuzzing.md`).
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static let corpus = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Fuzz/corpus")

    static func seeds() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func everySeedPassesTheFuzzersChecks() throws {
        let seeds = try Self.seeds()
        #expect(!seeds.isEmpty, "Fuzz/corpus holds the seeds")
        for seed in seeds {
            let bytes = try Data(contentsOf: seed)
            #expect(throws: Never.self, "\(seed.lastPathComponent)") {
                try WireFuzzChecks.check(ByteBuffer(bytes: bytes))
            }
        }
    }

    /// The seeds are version 2 frames that reach every frame kind, so that the fuzzer starts from the protocol as it is.
    @Test func theSeedsReachEveryFrameKind() throws {
        var kinds: Set<UInt8> = []
        for seed in try Self.seeds() {
            var buffer = ByteBuffer(bytes: try Data(contentsOf: seed))
            while let frame = try? WireFrame.decode(from: &buffer, maxLength: 1 << 20) {
                kinds.insert(frame.header.kind.rawValue)
            }
        }
        #expect(kinds == Set(1...10), "frame kinds reached: \(kinds.sorted())")
    }

    @Test func theFuzzerDecodesEveryMethod() {
        let decoded = Set(WireFuzzChecks.methodIDs)
        for method in WireMethodCatalog.all {
            #expect(decoded.contains(method.id), "\(method.name) is missing from WireFuzzChecks' method table")
        }
    }
}
