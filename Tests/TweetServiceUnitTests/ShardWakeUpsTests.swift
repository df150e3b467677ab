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
}
