import Testing

@testable import TweetService

@Suite("The relay's lag")
struct OutboxLagTests {
    @Test func aWakeUpCountsUntilAClaimThatBeganAfterItFindsItsShardDrained() {
        let lag = OutboxLag()
        #expect(lag.lag == .zero, "nothing woken")
        let now = ContinuousClock.now
        lag.woken(3, at: now - .seconds(20))
        lag.woken(3, at: now - .seconds(10))
        lag.woken(5, at: now - .seconds(10))
        #expect(lag.lag >= .seconds(20), "a shard's first wake-up counts, not its later ones")
        lag.drained(3, claimedAt: now - .seconds(30))
        #expect(lag.lag >= .seconds(20), "a claim that began before the wake-up clears nothing")
        lag.drained(3, claimedAt: now)
        #expect(lag.lag >= .seconds(10) && lag.lag < .seconds(20), "only shard 5 waits")
        lag.drained(5, claimedAt: now)
        #expect(lag.lag == .zero)
    }
}
