import Synchronization
import Testing

@testable import TweetService

@Suite("Shared fences on the primary's WAL position")
struct WALFenceTests {
    /// A primary whose position is the number of reads of it begun so far, each taking a little while.
    final class CountingPrimary: Sendable {
        let begun = Atomic<Int64>(0)

        func read() async throws -> Int64 {
            let position = begun.add(1, ordering: .relaxed).newValue
            try await Task.sleep(for: .milliseconds(5))
            return position
        }
    }

    @Test func everyCallerGetsAReadThatBeganAfterItArrivedAndConcurrentCallersShareReads() async throws {
        let primary = CountingPrimary()
        let fence = WALFence { try await primary.read() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    let begunBefore = primary.begun.load(ordering: .relaxed)
                    let position = try await fence.position()
                    #expect(position > begunBefore, "a read that began before the caller arrived is never its answer")
                }
            }
            try await group.waitForAll()
        }
        let reads = primary.begun.load(ordering: .relaxed)
        #expect(reads < 50, "200 concurrent callers shared \(reads) reads")
    }

    @Test func aFailedReadFailsItsCohortAndTheNextCallerReadsAgain() async throws {
        struct Refused: Error {}
        let fail = Atomic<Bool>(true)
        let fence = WALFence {
            try await Task.sleep(for: .milliseconds(2))
            if fail.load(ordering: .relaxed) { throw Refused() }
            return 42
        }
        await #expect(throws: Refused.self) { try await fence.position() }
        fail.store(false, ordering: .relaxed)
        #expect(try await fence.position() == 42)
    }
}
