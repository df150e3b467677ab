import Logging
import Synchronization
import Testing
import Wire
import WireTestSupport

@testable import TweetService

/// ``FanOutBackpressure`` with a delay the test sets, and its polling loop running: no database, no Redis.
@Suite("Fan-out backpressure")
struct FanOutBackpressureTests {
    private static let logger = Logger(label: "backpressure-test")

    /// The fan-out delay the stand-in TimelineService reports.
    final class Dial: Sendable {
        private let value: Mutex<Duration>

        init(_ value: Duration) { self.value = Mutex(value) }

        var delay: Duration {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }

    /// Runs `body` with a backpressure whose readings `dial` decides, its polling loop running.
    private func withBackpressure(
        _ configuration: FanOutBackpressure.Configuration, delay dial: Dial,
        _ body: (FanOutBackpressure) async throws -> Void
    ) async throws {
        let backpressure = FanOutBackpressure(configuration: configuration, logger: Self.logger) {
            dial.delay
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await backpressure.run() }
            defer { group.cancelAll() }
            try await body(backpressure)
        }
    }

    /// Asks once (admitted: nothing was read yet, and nothing is read while nobody asks), then waits for the
    /// polling loop to take a reading that holds creations back.
    private func untilHeldBack(_ backpressure: FanOutBackpressure) async throws {
        try await backpressure.admit()
        while !backpressure.holdsBack {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func aHeldCreationGoesAheadOnceTheDelayFalls() async throws {
        let delay = Dial(.seconds(5))
        let configuration = FanOutBackpressure.Configuration(
            delayLimit: .milliseconds(500), pollInterval: .milliseconds(10), maxWait: .seconds(60))
        try await withBackpressure(configuration, delay: delay) { backpressure in
            try await untilHeldBack(backpressure)
            let held = Task { try await backpressure.admit() }
            delay.delay = .milliseconds(100)
            try await held.value
            #expect(!backpressure.holdsBack)
        }
    }

    @Test func aCreationStillHeldAtItsDeadlineGoesAhead() async throws {
        let delay = Dial(.seconds(5))
        let configuration = FanOutBackpressure.Configuration(
            delayLimit: .milliseconds(500), pollInterval: .milliseconds(10), maxWait: .milliseconds(50))
        try await withBackpressure(configuration, delay: delay) { backpressure in
            try await untilHeldBack(backpressure)
            let started = ContinuousClock.now
            #expect(await wireOutcome { try await backpressure.admit() } == nil)
            #expect(ContinuousClock.now - started >= .milliseconds(50), "held for its whole wait first")
            #expect(backpressure.holdsBack)
        }
    }

    @Test func creationsBeyondTheWaitingBoundAreRefusedAtOnce() async throws {
        let delay = Dial(.seconds(5))
        let configuration = FanOutBackpressure.Configuration(
            delayLimit: .milliseconds(500), pollInterval: .milliseconds(10), maxWait: .seconds(60), maxWaiting: 0)
        try await withBackpressure(configuration, delay: delay) { backpressure in
            try await untilHeldBack(backpressure)
            let started = ContinuousClock.now
            #expect(await wireOutcome { try await backpressure.admit() } == "resource_exhausted/fan_out_behind")
            #expect(ContinuousClock.now - started < .seconds(60), "refused without waiting for the deadline")
        }
    }

    @Test func nothingIsReadWhileNobodyCreates() async throws {
        let reads = Atomic<Int>(0)
        let backpressure = FanOutBackpressure(
            configuration: FanOutBackpressure.Configuration(pollInterval: .milliseconds(1)), logger: Self.logger
        ) {
            reads.add(1, ordering: .relaxed)
            return .zero
        }
        for _ in 0..<20 {
            await backpressure.readIfAsked()
        }
        #expect(reads.load(ordering: .relaxed) == 0)
        try await backpressure.admit()
        await backpressure.readIfAsked()
        #expect(reads.load(ordering: .relaxed) == 1)
    }
}
