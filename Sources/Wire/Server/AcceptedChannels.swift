import Synchronization

/// The connections the server has accepted but not yet started serving, held until the accept loop takes them.
///
/// SwiftNIO drops a connection whose server channel closed between accepting it and handing it over, so the server
/// keeps its own reference here, and closes whatever the accept loop never took.
final class AcceptedChannels: Sendable {
    private struct State {
        var waiting: [ObjectIdentifier: WireServerConnection] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Holds a connection just accepted; once the server has closed, closes it instead.
    func hold(_ connection: WireServerConnection) {
        let held = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.waiting[ObjectIdentifier(connection)] = connection
            return true
        }
        if !held {
            connection.close()
        }
    }

    /// The accept loop takes a connection to serve it.
    func take(_ connection: WireServerConnection) {
        _ = state.withLock { $0.waiting.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// After the accept loop: every connection it never took, for closing; later ones are closed on arrival.
    func closeAndTakeRest() -> [WireServerConnection] {
        state.withLock { state in
            state.closed = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
    }
}
