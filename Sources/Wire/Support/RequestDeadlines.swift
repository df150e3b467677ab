import NIOCore

/// The deadlines of one connection's pending requests, served by a single timer on its event loop instead of a
/// scheduled task per request.
///
/// The timer is armed for the earliest deadline and moved only when a new request's deadline comes before it. A
/// request that is answered is only forgotten: the timer stays as it is, and when it fires with nothing due it
/// re-arms for the earliest deadline still pending. Requests mostly share a timeout, so a steady stream of them costs
/// two dictionary updates each and one timer event per timeout period, where a timer per request costs a schedule and
/// a cancel (a search of the event loop's timer queue) each.
///
/// Not thread-safe: its owner uses it on one event loop. Public for the other protocol clients' handlers (Redis), whose
/// requests have deadlines the same way.
public struct RequestDeadlines<ID: Hashable> {
    private var pending: [ID: NIODeadline] = [:]
    private var timer: (deadline: NIODeadline, scheduled: Scheduled<Void>)?

    public init() {}

    /// Requests whose deadline is being watched.
    public var count: Int { pending.count }

    /// Watches `id` until `deadline`; `arm` schedules the timer for a deadline when it must move earlier.
    public mutating func track(_ id: ID, until deadline: NIODeadline, arm: (NIODeadline) -> Scheduled<Void>) {
        pending[id] = deadline
        if let timer, timer.deadline <= deadline { return }
        timer?.scheduled.cancel()
        timer = (deadline, arm(deadline))
    }

    /// Stops watching `id` (it was answered before its deadline).
    public mutating func forget(_ id: ID) {
        pending.removeValue(forKey: id)
    }

    /// Called when the timer fires: removes and returns the requests due at `now`, earliest deadline first, and
    /// re-arms for the earliest deadline left. It looks at every pending request, once per timer event.
    public mutating func expire(at now: NIODeadline, arm: (NIODeadline) -> Scheduled<Void>) -> [ID] {
        timer = nil
        var due: [(deadline: NIODeadline, id: ID)] = []
        var next: NIODeadline?
        for (id, deadline) in pending {
            if deadline <= now {
                due.append((deadline, id))
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        for entry in due {
            pending.removeValue(forKey: entry.id)
        }
        if let next {
            timer = (next, arm(next))
        }
        return due.sorted { $0.deadline < $1.deadline }.map(\.id)
    }

    /// Stops the timer and forgets every request (the connection is gone).
    public mutating func cancelAll() {
        timer?.scheduled.cancel()
        timer = nil
        pending.removeAll()
    }
}
