import Testing

@testable import TweetService

@Suite("Relay wake-ups coalesce")
struct ShardWakeUpsTests {
    @Test func wakeUpsBeforeAPassMakeOneSetOfShards() async {
        let wakeUps = ShardWakeUps()
        for shard in [7, 3, 7, 7, 900, 3] {
            wakeUps.wake(shard)
        }
        var passes = wakeUps.makeAsyncIterator()
        #expect(await passes.next() == [3, 7, 900])
        // Woken again after the pass took them: the next pass has them, once.
        wakeUps.wake(7)
        wakeUps.wake(7)
        #expect(await passes.next() == [7])
    }

    @Test func aPassWaitsForAWakeUp() async {
        let wakeUps = ShardWakeUps()
        await withTaskGroup(of: [Int]?.self) { group in
            group.addTask {
                var passes = wakeUps.makeAsyncIterator()
                return await passes.next()
            }
            wakeUps.wake(42)
            #expect(await group.next() == [42])
        }
    }

    /// The lag counts from the first wake-up of a pass until the relay asks for the next one (its pass is done), and
    /// wake-ups that arrive meanwhile from their own time.
    @Test func theLagIsHowLongTheOldestWakeUpNotDrainedHasWaited() async throws {
        let wakeUps = ShardWakeUps()
        #expect(wakeUps.lag == .zero, "nothing woken")
        wakeUps.wake(3)
        try await Task.sleep(for: .milliseconds(500))
        #expect(wakeUps.lag >= .milliseconds(500), "pending")
        var passes = wakeUps.makeAsyncIterator()
        #expect(await passes.next() == [3])
        #expect(wakeUps.lag >= .milliseconds(500), "its pass is under way")
        wakeUps.wake(5)
        #expect(await passes.next() == [5], "the pass over 3 is done")
        #expect(wakeUps.lag < .milliseconds(500), "only 5, woken just now, waits")
    }
}
