import Testing

@testable import TweetService

@Suite("Replica lag from the primary's WAL positions")
struct PrimaryWALHistoryTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test func aReplicaThatReplayedTheNewestPositionLagsOnlyBySinceThatSample() {
        var history = PrimaryWALHistory(window: .seconds(30))
        history.record(position: 100, at: at(0))
        history.record(position: 250, at: at(100))
        #expect(history.lag(ofReplayed: 250, at: at(103)) == .milliseconds(3))
        #expect(history.lag(ofReplayed: 900, at: at(103)) == .milliseconds(3))
    }

    @Test func aReplicaBetweenTwoSamplesLagsSinceTheOlderOne() {
        var history = PrimaryWALHistory(window: .seconds(30))
        history.record(position: 100, at: at(0))
        history.record(position: 250, at: at(100))
        history.record(position: 400, at: at(200))
        // It holds all the primary had at 0 ms (100) but not all it had at 100 ms (250).
        #expect(history.lag(ofReplayed: 249, at: at(1_000)) == .milliseconds(1_000))
        #expect(history.lag(ofReplayed: 250, at: at(1_000)) == .milliseconds(900))
    }

    @Test func anIdlePrimaryKeepsTheLagOfACaughtUpReplicaNearZero() {
        var history = PrimaryWALHistory(window: .seconds(30))
        for tick in 0..<100 {
            history.record(position: 7_000, at: at(tick * 100))
        }
        // No write for ten seconds: a replica at the same position is not ten seconds behind.
        #expect(history.lag(ofReplayed: 7_000, at: at(9_901)) == .milliseconds(1))
    }

    @Test func aReplicaThatStoppedReplayingLagsMoreWithEveryWrite() {
        var history = PrimaryWALHistory(window: .seconds(30))
        var position: Int64 = 1_000
        var lags: [Duration?] = []
        for tick in 0..<20 {
            position += 10
            history.record(position: position, at: at(tick * 100))
            lags.append(history.lag(ofReplayed: 1_010, at: at(tick * 100)))
        }
        #expect(lags.first == .zero)
        #expect(lags.last == .milliseconds(1_900))
    }

    @Test func behindTheWholeHistoryIsUnknownAndSoLagging() {
        var history = PrimaryWALHistory(window: .seconds(1))
        #expect(history.lag(ofReplayed: 0, at: at(0)) == nil)
        for tick in 0..<30 {
            history.record(position: Int64(100 + tick), at: at(tick * 100))
        }
        #expect(history.samples.count <= 11)
        #expect(history.lag(ofReplayed: 100, at: at(3_000)) == nil)
    }

    @Test func aPositionGoingBackStartsTheHistoryAgain() {
        var history = PrimaryWALHistory(window: .seconds(30))
        history.record(position: 5_000, at: at(0))
        history.record(position: 10, at: at(100))
        #expect(history.samples.map(\.position) == [10])
        #expect(history.lag(ofReplayed: 4_000, at: at(100)) == .zero)
    }
}
