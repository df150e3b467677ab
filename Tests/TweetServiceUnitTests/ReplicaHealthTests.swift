import Testing

@testable import TweetService

@Suite("Which reads a replica serves")
struct ReplicaHealthTests {
    let start = ContinuousClock.now
    let maxLag = Duration.seconds(1)
    let maxAge = Duration.milliseconds(500)

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    func route(_ health: ReplicaHealth, at milliseconds: Int) -> ReplicaHealth.Route {
        health.route(at: at(milliseconds), maxLag: maxLag, maxAge: maxAge)
    }

    @Test func aFreshMeasurementWithinTheBoundChoosesTheReplica() {
        var health = ReplicaHealth()
        #expect(route(health, at: 0) == .primary(.unmeasured))
        health.measured(lag: .milliseconds(999), at: at(0))
        #expect(route(health, at: 100) == .replica)
        health.measured(lag: .milliseconds(1_001), at: at(100))
        #expect(route(health, at: 150) == .primary(.lagging))
        health.measured(lag: nil, at: at(200))
        #expect(route(health, at: 250) == .primary(.lagging))
    }

    @Test func aReplicaNotMeasuredForHalfASecondIsSkipped() {
        var health = ReplicaHealth()
        health.measured(lag: .zero, at: at(0))
        #expect(route(health, at: 500) == .replica)
        #expect(route(health, at: 501) == .primary(.unmeasured))
    }

    @Test func aFailureSkipsTheReplicaUntilTheNextMeasurement() {
        var health = ReplicaHealth()
        health.measured(lag: .zero, at: at(0))
        let first = health.failed(at: at(10))
        let second = health.failed(at: at(20))
        #expect(first, "the first failure is news")
        #expect(!second, "a second one before a measurement is not")
        #expect(route(health, at: 30) == .primary(.down))
        health.measured(lag: .zero, at: at(100))
        #expect(route(health, at: 110) == .replica)
        let again = health.failed(at: at(120))
        #expect(again, "down again after it was measured up")
    }

    @Test func aReplicaThatFailedBeforeItsFirstMeasurementIsDown() {
        var health = ReplicaHealth()
        health.failed(at: at(0))
        #expect(route(health, at: 1) == .primary(.down))
    }
}
