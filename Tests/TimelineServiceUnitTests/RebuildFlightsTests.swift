import Synchronization
import Testing
import Wire

@testable import TimelineService

/// Single-flight home rebuilds, without servers.
@Suite struct RebuildFlightsTests {
    /// A gate the leader's rebuild waits at, so that the test can pile reads up behind it.
    final class Gate: Sendable {
        let (opened, open) = AsyncStream.makeStream(of: Void.self)
        let runs = Atomic<Int>(0)

        func rebuild(failing: Bool = false) async throws {
            runs.add(1, ordering: .relaxed)
            for await _ in opened { break }
            if failing { throw WireError(.unavailable, reason: "test", "store down") }
        }
    }

    private static func waitUntil(_ condition: () -> Bool) async throws {
        while !condition() {
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func concurrentReadsOfOneUserShareOneRebuild() async throws {
        let flights = RebuildFlights(limit: 4)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask { try await flights.run(for: 7) { try await gate.rebuild() } }
            }
            try await Self.waitUntil { gate.runs.load(ordering: .relaxed) == 1 && flights.count == 1 }
            try await Task.sleep(for: .milliseconds(20))  // let the other nine join
            gate.open.yield()
            try await group.waitForAll()
        }
        #expect(gate.runs.load(ordering: .relaxed) == 1)
        #expect(flights.count == 0)
    }

    @Test func followersShareTheLeadersFailure() async throws {
        let flights = RebuildFlights(limit: 4)
        let gate = Gate()
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do {
                        try await flights.run(for: 7) { try await gate.rebuild(failing: true) }
                        return false
                    } catch {
                        return true
                    }
                }
            }
            try? await Self.waitUntil { gate.runs.load(ordering: .relaxed) >= 1 }
            try? await Task.sleep(for: .milliseconds(20))
            gate.open.yield()
            gate.open.finish()
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 5)
    }

    @Test func moreUsersThanTheLimitAreRefusedNotQueued() async throws {
        let flights = RebuildFlights(limit: 1)
        let gate = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await flights.run(for: 1) { try await gate.rebuild() } }
            try await Self.waitUntil { flights.count == 1 }
            await #expect {
                try await flights.run(for: 2) {}
            } throws: { ($0 as? WireError)?.reason == "rebuilds_busy" }
            gate.open.yield()
            try await group.waitForAll()
        }
        try await flights.run(for: 2) {}
    }
}
