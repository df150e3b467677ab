import Logging
import Metrics
import NIOCore
import NIOPosix
import Synchronization

/// Calls a service that runs as one or more instances.
///
/// The client keeps ``WireClientConfiguration/connectionsPerEndpoint`` connections to every endpoint, opened on first
/// use. Each call goes to the least-loaded usable connection. An endpoint that cannot be reached is retried only
/// after a growing backoff, and its calls fail over to the others. A request that was sent is never resent (it may
/// not be idempotent): its caller sees the error.
public final class WireClient: Sendable {
    private enum SlotState {
        /// Not connected; after a failure, backing off until `retryAt`, with the failure that caused it.
        case idle(failures: Int, retryAt: ContinuousClock.Instant, lastFailure: WireError? = nil)
        case connecting(Task<WireClientConnection, any Error>)
        case ready(WireClientConnection)
    }

    private final class Slot: Sendable {
        let endpoint: WireEndpoint
        let state: Mutex<SlotState>

        init(endpoint: WireEndpoint) {
            self.endpoint = endpoint
            self.state = Mutex(.idle(failures: 0, retryAt: .now))
        }

        /// Why the slot is backing off, if it is.
        var lastFailure: WireError? {
            state.withLock { state in
                if case .idle(_, _, let failure) = state { return failure }
                return nil
            }
        }
    }

    public let configuration: WireClientConfiguration
    private let slots: [Slot]
    private let nextSlot = Atomic<Int>(0)
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    public init(
        configuration: WireClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.slots = (0..<configuration.connectionsPerEndpoint).flatMap { _ in
            configuration.endpoints.map { Slot(endpoint: $0) }
        }
    }

    /// Calls `method` and decodes its answer.
    ///
    /// The current ``WireTraceID/current`` goes along (a fresh one when there is none).
    /// - Throws: ``WireError``: the server's, `deadline_exceeded` when `timeout` passes, or `unavailable` when no
    ///   endpoint can be reached.
    public func call<Method: WireMethod>(
        _ method: Method.Type,
        _ request: Method.Request,
        timeout: Duration? = nil
    ) async throws(WireError) -> Method.Response {
        let payload = request.payload()
        let timeout = timeout ?? configuration.defaultTimeout
        let deadline = ContinuousClock.now + timeout
        let traceID = WireTraceID.current ?? .random()
        let connection = try await connection(before: deadline)
        let answer: ByteBuffer
        do {
            answer = try await connection.call(
                method: Method.id, payload: payload, timeout: deadline - .now, traceID: traceID
            )
        } catch let error as WireError {
            Counter(
                label: "wire_client_errors_total", dimensions: [("method", Method.name), ("code", "\(error.code)")]
            ).increment()
            throw error
        } catch {
            throw WireError(.internal, "\(error)")
        }
        return try Method.Response(payload: answer)
    }

    /// Closes every connection. Calls made afterwards open new ones.
    public func closeConnections() {
        for slot in slots {
            let state = slot.state.withLock { state in
                defer { state = .idle(failures: 0, retryAt: .now) }
                return state
            }
            switch state {
            case .ready(let connection): connection.close()
            case .connecting(let task): task.cancel()
            case .idle: break
            }
        }
    }

    /// The least-loaded usable connection with room for one more request; else one that is still being opened or a
    /// new one to the next endpoint that is not backing off, trying each in turn (failover). Only when every slot's
    /// connection is at the server's in-flight limit is the call refused (a ready but full connection is no reason to
    /// refuse while other slots are still connecting).
    private func connection(before deadline: ContinuousClock.Instant) async throws(WireError) -> WireClientConnection {
        if let ready = leastLoadedConnection(), ready.hasCapacity {
            return ready
        }
        let start = nextSlot.add(1, ordering: .relaxed).oldValue
        var lastError = WireError.unavailable("every endpoint is backing off after failures")
        for offset in 0..<slots.count {
            let slot = slots[(start + offset) % slots.count]
            guard let task = connectTask(for: slot) else {
                // Backing off: say why, so that a refused key or certificate is not reported as a mere outage.
                if let failure = slot.lastFailure {
                    lastError = WireError(failure.code, reason: failure.reason, "backing off after: \(failure.message)")
                }
                continue
            }
            do {
                let connection = try await task.value
                if connection.hasCapacity {
                    return connection
                }
                lastError = WireError(
                    .resourceExhausted, reason: "too_many_requests", "every connection is at its in-flight limit")
                continue
            } catch let error as WireError {
                lastError = error
            } catch {
                lastError = WireError.unavailable("\(error)")
            }
            if ContinuousClock.now >= deadline {
                throw WireError.deadlineExceeded
            }
        }
        throw lastError
    }

    /// The usable connection with the fewest requests in flight. Slots that are idle and due for a (re)connect get
    /// one started in the background, so that endpoints that come back rejoin and every slot fills up.
    private func leastLoadedConnection() -> WireClientConnection? {
        var best: WireClientConnection?
        let start = nextSlot.add(1, ordering: .relaxed).oldValue
        for offset in 0..<slots.count {
            let slot = slots[(start + offset) % slots.count]
            let candidate: WireClientConnection? = slot.state.withLock { state in
                if case .ready(let connection) = state, connection.isUsable { return connection }
                return nil
            }
            guard let candidate else {
                _ = connectTask(for: slot)
                continue
            }
            if candidate.inFlightRequests < (best?.inFlightRequests ?? .max) {
                best = candidate
            }
        }
        return best
    }

    /// The task that opens this slot's connection: a running one, a new one, or `nil` while the slot backs off.
    /// The task belongs to the slot (``closeConnections()`` cancels it); every caller that needs it awaits it.
    private func connectTask(for slot: Slot) -> Task<WireClientConnection, any Error>? {
        slot.state.withLock { state -> Task<WireClientConnection, any Error>? in
            let failures: Int
            switch state {
            case .connecting(let task):
                return task
            case .ready(let connection):
                if connection.isUsable { return Task { connection } }
                failures = 0
            case .idle(let previousFailures, let retryAt, _):
                guard ContinuousClock.now >= retryAt else { return nil }
                failures = previousFailures
            }
            let task = Task { try await self.open(slot, after: failures) }
            state = .connecting(task)
            return task
        }
    }

    private func open(_ slot: Slot, after failures: Int) async throws -> WireClientConnection {
        do {
            let connection = try await WireClientConnection.connect(
                to: slot.endpoint, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger
            )
            slot.state.withLock { $0 = .ready(connection) }
            connection.closeFuture.whenComplete { _ in
                slot.state.withLock { state in
                    if case .ready(let current) = state, current === connection {
                        state = .idle(failures: 0, retryAt: .now)
                    }
                }
            }
            return connection
        } catch {
            let backoff = min(
                configuration.reconnectBackoff * (1 << min(failures, 16)), configuration.maxReconnectBackoff)
            logger.warning(
                "cannot reach endpoint; backing off",
                metadata: ["endpoint": "\(slot.endpoint)", "backoff": "\(backoff)", "error": "\(error)"]
            )
            let failure = (error as? WireError) ?? WireError.unavailable("\(error)")
            slot.state.withLock { $0 = .idle(failures: failures + 1, retryAt: .now + backoff, lastFailure: failure) }
            throw error
        }
    }
}
