import Logging
import Synchronization
import Testing
import Wire
import WireTestSupport

@testable import TweetService

/// ``FanOutBackpressure`` with a delay the test sets and readings the test takes (`readIfAsked()`, no polling loop;
/// a reading stays fresh for four poll intervals, 4 s here): no database, no Redis, no dependence on scheduling.
@Suite("Fan-out backpressure")
struct FanOutBackpressureTests {
    private static let logger = Logger(label: "backpressure-test")

    /// The fan-out delay the stand-in TimelineService reports; nil: the call fails.
    final class Dial: Sendable {
        private let value: Mutex<Duration?>

        init(_ value: Duration?) { self.value = Mutex(value) }

        var delay: Duration? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }

        func read() throws -> Duration {
            guard let delay else { throw WireError(.unavailable, "the TimelineService is out of reach") }
            return delay
        }
    }

    private func backpressure(
        _ dial: Dial, maxWait: Duration = .seconds(60), maxWaiting: Int = 1_000
    ) -> FanOutBackpressure {
        FanOutBackpressure(
            configuration: FanOutBackpressure.Configuration(
                delayLimit: .milliseconds(500), pollInterval: .seconds(1), maxWait: maxWait, maxWaiting: maxWaiting),
            logger: Self.logger
        ) { try dial.read() }
    }

    /// A creation asks (admitted: nothing was read yet), then a reading of the dial is taken.
    private func askAndRead(_ backpressure: FanOutBackpressure) async throws {
        try await backpressure.admit()
        await backpressure.readIfAsked()
    }

    @Test func aHeldCreationGoesAheadOnceTheDelayFalls() async throws {
        let dial = Dial(.seconds(5))
        let backpressure = backpressure(dial)
        try await askAndRead(backpressure)
        #expect(backpressure.holdsBack)
        let held = Task { try await backpressure.admit() }
        #expect(try await eventually { backpressure.waitingCount == 1 }, "the creation is held")
        dial.delay = .milliseconds(100)
        await backpressure.readIfAsked()
        try await held.value  // within half a poll interval, long before its 60 s
        #expect(!backpressure.holdsBack && backpressure.waitingCount == 0)
    }

    @Test func aCreationStillHeldAtItsDeadlineGoesAhead() async throws {
        let backpressure = backpressure(Dial(.seconds(5)), maxWait: .milliseconds(50))
        try await askAndRead(backpressure)
        let started = ContinuousClock.now
        #expect(await wireOutcome { try await backpressure.admit() } == nil)
        #expect(ContinuousClock.now - started >= .milliseconds(50), "held for its whole wait first")
        #expect(backpressure.holdsBack)
    }

    @Test func creationsBeyondTheWaitingBoundAreRefusedAtOnce() async throws {
        let backpressure = backpressure(Dial(.seconds(5)), maxWaiting: 0)
        try await askAndRead(backpressure)
        let started = ContinuousClock.now
        #expect(await wireOutcome { try await backpressure.admit() } == "resource_exhausted/fan_out_behind")
        #expect(ContinuousClock.now - started < .seconds(60), "refused without waiting for the deadline")
    }

    @Test func aDelayThatCannotBeReadHoldsNothingBack() async throws {
        let dial = Dial(.seconds(5))
        let backpressure = backpressure(dial)
        try await askAndRead(backpressure)
        #expect(backpressure.holdsBack)
        dial.delay = nil
        await backpressure.readIfAsked()
        #expect(!backpressure.holdsBack)
    }

    @Test func aStaleReadingHoldsNothingBack() async throws {
        let backpressure = FanOutBackpressure(
            configuration: FanOutBackpressure.Configuration(pollInterval: .milliseconds(1)), logger: Self.logger
        ) { .seconds(5) }
        try await askAndRead(backpressure)
        #expect(try await eventually { !backpressure.holdsBack }, "a reading four poll intervals (4 ms) old is stale")
    }

    @Test func aCancelledCreationIsAnErrorAndLeavesTheWaitingCount() async throws {
        let backpressure = backpressure(Dial(.seconds(5)))
        try await askAndRead(backpressure)
        let held = Task { await wireOutcome { try await backpressure.admit() } }
        #expect(try await eventually { backpressure.waitingCount == 1 }, "the creation is held")
        held.cancel()
        #expect(await held.value == "unavailable/cancelled")
        #expect(backpressure.waitingCount == 0)
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
