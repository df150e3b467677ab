import Logging
import NIOCore
import Synchronization

/// The connections a client keeps to one node: a fixed number of slots used in turn, each connected on first use
/// and connected again after its connection closes.
///
/// A failed connect makes its slot back off: calls that pick it fail at once with `unavailable` until the pause is
/// over (50 ms, doubling with each failure in a row, at most ``maxBackoff``), so a node that is down costs its
/// callers a prompt error instead of a connect attempt (and up to a connect timeout) each.
final class RedisNodeConnections: Sendable {
    /// The longest pause between connect attempts to a node that keeps failing.
    static let maxBackoff: Duration = .seconds(2)

    private enum Slot {
        case empty
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
        case backingOff(until: ContinuousClock.Instant)
    }

    private struct State {
        var slots: [Slot]
        /// Failed connects in a row, per slot.
        var failures: [Int]
        var next = 0
        var isClosed = false
    }

    let address: RedisNodeAddress
    private let configuration: RedisClient.Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>

    init(
        address: RedisNodeAddress,
        configuration: RedisClient.Configuration,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.address = address
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        state = Mutex(
            State(
                slots: Array(repeating: .empty, count: configuration.connectionsPerNode),
                failures: Array(repeating: 0, count: configuration.connectionsPerNode)
            )
        )
    }

    /// The next connection in turn, connecting it first if needed.
    ///
    /// - Throws: ``RedisError/Code/unavailable`` when the node cannot be reached or the client has shut down.
    func connection() async throws(RedisError) -> RedisConnection {
        let future: EventLoopFuture<RedisConnection>
        switch pickSlot() {
        case .ready(let connection): return connection
        case .closed: throw .unavailable("the connections to \(address) have been closed")
        case .backingOff(let until):
            throw .unavailable("\(address) is unreachable; backing off for \(until - ContinuousClock.now)")
        case .pending(let pending): future = pending
        case .started(let started, let index):
            watch(started, slot: index)
            future = started
        }
        do {
            return try await future.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .unavailable("cannot connect to \(address): \(error)")
        }
    }

    /// Closes every connection; later calls to ``connection()`` fail. Connections still being made are closed as
    /// soon as they are up.
    func close() {
        let slots = state.withLock { state in
            state.isClosed = true
            defer { state.slots = state.slots.map { _ in .empty } }
            return state.slots
        }
        for case .ready(let connection) in slots {
            connection.close()
        }
    }

    private enum Pick {
        case ready(RedisConnection)
        case pending(EventLoopFuture<RedisConnection>)
        /// A connection attempt this call started; its outcome must be recorded in the slot.
        case started(EventLoopFuture<RedisConnection>, slot: Int)
        case backingOff(until: ContinuousClock.Instant)
        case closed
    }

    private func pickSlot() -> Pick {
        state.withLock { state in
            guard !state.isClosed else { return .closed }
            let index = state.next
            state.next = (state.next + 1) % state.slots.count
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .ready(connection)
            case .connecting(let future):
                return .pending(future)
            case .backingOff(let until) where ContinuousClock.now < until:
                return .backingOff(until: until)
            case .ready, .empty, .backingOff:
                let future = RedisConnection.connect(
                    to: address, on: eventLoopGroup.next(), configuration: configuration, logger: logger
                )
                state.slots[index] = .connecting(future)
                return .started(future, slot: index)
            }
        }
    }

    /// Records the outcome of a connection attempt in its slot. Registered outside the lock: a callback on a
    /// future that is already complete may run at once.
    private func watch(_ future: EventLoopFuture<RedisConnection>, slot index: Int) {
        future.whenComplete { result in
            let orphan: RedisConnection? = self.state.withLock { state in
                guard case .connecting(let pending) = state.slots[index], pending === future else {
                    // `close()` ran meanwhile: nobody else owns this connection.
                    return try? result.get()
                }
                switch result {
                case .success(let connection):
                    state.slots[index] = .ready(connection)
                    state.failures[index] = 0
                case .failure:
                    let pause = min(Self.maxBackoff, .milliseconds(50) * (1 << min(state.failures[index], 16)))
                    state.slots[index] = .backingOff(until: .now + pause)
                    state.failures[index] += 1
                }
                return nil
            }
            orphan?.close()
            if case .failure(let error) = result {
                self.logger.warning(
                    "cannot connect to Redis", metadata: ["redis.node": "\(self.address)", "error": "\(error)"]
                )
            }
        }
    }
}
