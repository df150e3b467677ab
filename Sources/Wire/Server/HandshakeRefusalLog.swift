import Logging
import Metrics
import Synchronization

/// Logs refused handshakes (wrong key, missing proof, unknown role) once each, with the peer's address, but at most
/// one line per ``interval`` per server: a flood of attempts must not become a flood of log lines. Lines that were
/// held back are counted in the next one, and every refusal is counted in `wire_server_handshake_refusals_total`.
final class HandshakeRefusalLog: Sendable {
    private struct State {
        var lastLine: ContinuousClock.Instant?
        var heldBack = 0
    }

    let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration = .seconds(1)) {
        self.interval = interval
    }

    func record(_ error: WireError, peer: String, logger: Logger, now: ContinuousClock.Instant = .now) {
        Counter(label: "wire_server_handshake_refusals_total", dimensions: [("reason", error.reason)]).increment()
        let heldBack: Int? = state.withLock { state in
            if let last = state.lastLine, now - last < interval {
                state.heldBack += 1
                return nil
            }
            defer { state = State(lastLine: now, heldBack: 0) }
            return state.heldBack
        }
        guard let heldBack else { return }
        logger.warning(
            "refused a Wire handshake",
            metadata: [
                "peer": "\(peer)", "reason": "\(error.reason)", "error": "\(error.message)",
                "refusals_not_logged": "\(heldBack)",
            ]
        )
    }
}
