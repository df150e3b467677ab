import Foundation
import Logging
import NIOPosix
import Synchronization

/// Connections to one physical PostgreSQL server, each used on one of the pool's own threads.
///
/// libpq blocks, so statements never run on an event loop or on Swift's cooperative pool: ``withConnection(waitingAtMost:_:)``
/// hands the work to a dedicated thread and suspends the caller until it is done. When the server is down, callers get
/// `unavailable` at once for ``Configuration/retryAfterFailure``, then the next call tries to connect again.
public final class PostgresPool: Sendable {
    public struct Configuration: Sendable {
        /// A libpq connection string, e.g. `postgresql://postgres@127.0.0.1:55431/tweeter`.
        public var conninfo: String
        /// Connections, and threads, for this server.
        public var connections: Int
        /// Calls allowed to wait for a connection; more are refused with `overloaded`.
        public var maxWaiting: Int
        /// How long a failed connect makes further calls fail fast.
        public var retryAfterFailure: Duration
        /// libpq's `connect_timeout`, in whole seconds.
        public var connectTimeoutSeconds: Int
        /// How long a call may wait for a connection; past it the call fails with `timed_out` without running.
        public var maxWait: Duration
        /// The server's `lock_timeout` on every connection: a statement waiting this long for a lock is cancelled.
        public var lockTimeout: Duration
        /// The server's `statement_timeout` on every connection: a statement running this long is cancelled.
        public var statementTimeout: Duration
        /// Prepared statements each connection keeps (least recently used ones are deallocated past it): with one
        /// per shard for each kind of statement, this bounds what plans cost the server per connection.
        public var maxPreparedStatements: Int

        /// The defaults keep one call (the wait and up to two statements, as a tweet's creation takes) inside the
        /// Gateway's 5-second call deadline, so that a write either commits or fails before its caller gives up:
        /// never a timeout answered for a write that commits later.
        public init(
            conninfo: String,
            connections: Int = 8,
            maxWaiting: Int = 2048,
            retryAfterFailure: Duration = .milliseconds(500),
            connectTimeoutSeconds: Int = 2,
            maxWait: Duration = .seconds(1),
            lockTimeout: Duration = .seconds(1),
            statementTimeout: Duration = .milliseconds(1500),
            maxPreparedStatements: Int = 256
        ) {
            self.conninfo = conninfo
            self.connections = connections
            self.maxWaiting = maxWaiting
            self.retryAfterFailure = retryAfterFailure
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.maxWait = maxWait
            self.lockTimeout = lockTimeout
            self.statementTimeout = statementTimeout
            self.maxPreparedStatements = maxPreparedStatements
        }
    }

    public let configuration: Configuration
    private let threads: NIOThreadPool
    private let idle = Mutex<[PostgresConnection]>([])
    private let waiting = Atomic<Int>(0)
    private let failingUntil = Mutex<ContinuousClock.Instant?>(nil)
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.threads = NIOThreadPool(numberOfThreads: configuration.connections)
        self.threads.start()
        var logger = logger
        logger[metadataKey: "postgres"] = "\(Self.redacted(configuration.conninfo))"
        self.logger = logger
    }

    /// Runs `body` with a connection on one of the pool's threads.
    /// - Parameter maxWait: how long to wait for a connection; ``Configuration/maxWait`` unless given.
    /// - Throws: ``PostgresError`` (`unavailable`, `overloaded`, `timed_out`, or what the statements raised), or what
    ///   `body` throws.
    @discardableResult
    public func withConnection<Result: Sendable>(
        waitingAtMost maxWait: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection) throws -> Result
    ) async throws -> Result {
        if let until = failingUntil.withLock({ $0 }), ContinuousClock.now < until {
            throw PostgresError(.unavailable, "server is down; retrying after a pause")
        }
        guard waiting.add(1, ordering: .relaxed).newValue <= configuration.maxWaiting else {
            waiting.subtract(1, ordering: .relaxed)
            throw PostgresError(.overloaded, "more than \(configuration.maxWaiting) statements waiting")
        }
        defer { waiting.subtract(1, ordering: .relaxed) }
        let maxWait = maxWait ?? configuration.maxWait
        let waitEnds = ContinuousClock.now + maxWait
        return try await threads.runIfActive {
            guard ContinuousClock.now < waitEnds else {
                // The caller's bound ran out in the queue; running it now could commit after an error was answered.
                throw PostgresError(.timedOut, "no connection within \(maxWait)")
            }
            let connection = try self.checkOut()
            do {
                let result = try body(connection)
                self.checkIn(connection)
                return result
            } catch {
                if connection.isHealthy {
                    self.checkIn(connection)
                } else {
                    self.logger.warning("dropping broken connection", metadata: ["error": "\(error)"])
                }
                throw error
            }
        }
    }

    /// Closes idle connections and stops the threads.
    public func shutdown() async throws {
        idle.withLock { $0.removeAll() }
        try await threads.shutdownGracefully()
    }

    private func checkOut() throws(PostgresError) -> PostgresConnection {
        if let connection = idle.withLock({ $0.popLast() }) {
            return connection
        }
        do {
            let separator = configuration.conninfo.contains("?") ? "&" : "?"
            let connection = try PostgresConnection(
                conninfo: configuration.conninfo + "\(separator)connect_timeout=\(configuration.connectTimeoutSeconds)",
                maxPreparedStatements: configuration.maxPreparedStatements
            )
            try connection.execute(
                script:
                    "SET lock_timeout = \(configuration.lockTimeout.milliseconds); SET statement_timeout = \(configuration.statementTimeout.milliseconds)"
            )
            failingUntil.withLock { $0 = nil }
            return connection
        } catch {
            logger.warning("cannot connect", metadata: ["error": "\(error.message)"])
            failingUntil.withLock { $0 = .now + configuration.retryAfterFailure }
            throw error
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        idle.withLock { $0.append(connection) }
    }

    /// The connection string without a password, for logs.
    static func redacted(_ conninfo: String) -> String {
        guard let at = conninfo.firstIndex(of: "@"), let scheme = conninfo.range(of: "://") else { return conninfo }
        let credentials = conninfo[scheme.upperBound..<at]
        let user = credentials.split(separator: ":", maxSplits: 1).first ?? ""
        return String(conninfo[..<scheme.upperBound] + user + conninfo[at...])
    }
}
