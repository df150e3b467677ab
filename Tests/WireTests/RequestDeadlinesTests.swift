import NIOCore
import NIOEmbedded
import Testing

@testable import Wire

@Suite("One deadline timer per connection")
struct RequestDeadlinesTests {
    private let loop = EmbeddedEventLoop()

    /// Records every deadline the timer is armed for; the tests call `expire` themselves.
    private final class TimerLog {
        let loop: EmbeddedEventLoop
        var armed: [NIODeadline] = []

        init(loop: EmbeddedEventLoop) {
            self.loop = loop
        }

        func arm(_ deadline: NIODeadline) -> Scheduled<Void> {
            armed.append(deadline)
            return loop.scheduleTask(deadline: deadline) {}
        }
    }

    @Test func requestsExpireInDeadlineOrderNotArrivalOrder() {
        var deadlines = RequestDeadlines<Int>()
        let timer = TimerLog(loop: loop)
        let start = loop.now
        deadlines.track(1, until: start + .milliseconds(500), arm: timer.arm)
        deadlines.track(2, until: start + .milliseconds(100), arm: timer.arm)
        deadlines.track(3, until: start + .milliseconds(300), arm: timer.arm)
        #expect(deadlines.expire(at: start + .milliseconds(99), arm: timer.arm).isEmpty)
        #expect(deadlines.expire(at: start + .milliseconds(300), arm: timer.arm) == [2, 3])
        #expect(deadlines.expire(at: start + .milliseconds(500), arm: timer.arm) == [1])
        #expect(deadlines.count == 0)
    }

    /// A later deadline leaves the timer alone; only an earlier one moves it. Answered requests never expire.
    @Test func theTimerMovesOnlyForAnEarlierDeadline() {
        var deadlines = RequestDeadlines<Int>()
        let timer = TimerLog(loop: loop)
        let start = loop.now
        for id in 0..<100 {
            deadlines.track(id, until: start + .milliseconds(Int64(100 + id)), arm: timer.arm)
        }
        #expect(timer.armed == [start + .milliseconds(100)])
        deadlines.track(100, until: start + .milliseconds(50), arm: timer.arm)
        #expect(timer.armed.last == start + .milliseconds(50))
        for id in 0..<99 {
            deadlines.forget(id)
        }
        #expect(timer.armed.count == 2, "answers leave the timer as it is")
        // Fired at 50 ms: request 100 is due, the timer is re-armed for the only other one left (99, at 199 ms).
        #expect(deadlines.expire(at: start + .milliseconds(50), arm: timer.arm) == [100])
        #expect(timer.armed.last == start + .milliseconds(199))
        #expect(deadlines.expire(at: start + .milliseconds(1000), arm: timer.arm) == [99])
    }

    @Test func cancellingForgetsEveryRequest() {
        var deadlines = RequestDeadlines<Int>()
        let timer = TimerLog(loop: loop)
        deadlines.track(1, until: loop.now + .seconds(1), arm: timer.arm)
        deadlines.cancelAll()
        #expect(deadlines.count == 0)
        #expect(deadlines.expire(at: loop.now + .seconds(2), arm: timer.arm).isEmpty)
    }
}
