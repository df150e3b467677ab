import NIOCore
import Synchronization

/// The connections the server has accepted but not yet started serving, held until the accept loop takes them.
///
/// Every accepted connection is an async channel that must be run to its close (`executeThenClose`); one that is
/// dropped unfinished stops the process. SwiftNIO drops a connection whose server channel closed between accepting it
/// and handing it over, so the server keeps its own reference here, and closes whatever the accept loop never took.
final class AcceptedChannels: Sendable {
    typealias Child = NIOAsyncChannel<WireFrame, WireFrame>

    private struct State {
        var waiting: [ObjectIdentifier: Child] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Holds a connection just accepted; once the server has closed, closes it instead.
    func hold(_ child: Child) {
        let held = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.waiting[ObjectIdentifier(child.channel)] = child
            return true
        }
        if !held {
            Task { try? await child.executeThenClose { _, _ in } }
        }
    }

    /// The accept loop takes a connection to serve it.
    func take(_ child: Child) {
        _ = state.withLock { $0.waiting.removeValue(forKey: ObjectIdentifier(child.channel)) }
    }

    /// After the accept loop: every connection it never took, for closing; later ones are closed on arrival.
    func closeAndTakeRest() -> [Child] {
        state.withLock { state in
            state.closed = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
    }
}
