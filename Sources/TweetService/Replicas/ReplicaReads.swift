import Logging
import Metrics
import Synchronization
import Wire

#if canImport(Glibc)
    import Glibc
#endif

/// Lag-tolerant reads served by each server's streaming replica, so that fan-out and timeline rebuilds do not load
/// the primaries; every other read, and every write, stays on the primary.
///
/// A read is sent to a replica only when all of these hold, and otherwise to the primary, at once and without an
/// error to its caller:
/// - the ``ReplicaMonitor`` measured the replica less than ``Configuration/maxMeasurementAge`` ago, with a lag
///   (``PrimaryWALHistory``) within ``Configuration/maxLag``, and no read has failed on it since;
/// - the replica has replayed the primary's WAL position read when this read began (the *fence*, waited for at most
///   ``Configuration/catchUpWait``): so the replica answers what the primary would have answered at some moment
///   after the read began, and a row committed before the request arrived is never missing from the answer.
/// A read that fails on the replica is run again on the primary at once, and the replica is skipped until the next
/// good measurement.
public final class ReplicaReads: Sendable {
    public struct Configuration: Sendable {
        /// One libpq connection string per server's replica, in shard-map order; `nil` for a server without one.
        public var replicas: [String?]
        /// The most replay lag a replica may have and still be chosen.
        public var maxLag: Duration
        /// How often the monitor measures every replica.
        public var measurementInterval: Duration
        /// A replica not measured for this long (its monitor connection hangs or fails) is skipped.
        public var maxMeasurementAge: Duration
        /// How long a read waits on the replica for it to replay the read's fence before going to the primary.
        public var catchUpWait: Duration
        /// Connections (and threads) for reads on each replica.
        public var connectionsPerReplica: Int
        /// How far back the primary's WAL positions are remembered (see ``PrimaryWALHistory``).
        public var historyWindow: Duration

        /// A replica that is down or lagging is skipped within `maxMeasurementAge` plus one interval (0.6 s), and a
        /// read that finds it so meanwhile costs at most the catch-up wait or a failed statement before the primary
        /// answers it.
        public init(
            replicas: [String?],
            maxLag: Duration = .seconds(1),
            measurementInterval: Duration = .milliseconds(100),
            maxMeasurementAge: Duration = .milliseconds(500),
            catchUpWait: Duration = .milliseconds(100),
            connectionsPerReplica: Int = 8,
            historyWindow: Duration = .seconds(30)
        ) {
            self.replicas = replicas
            self.maxLag = maxLag
            self.measurementInterval = measurementInterval
            self.maxMeasurementAge = maxMeasurementAge
            self.catchUpWait = catchUpWait
            self.connectionsPerReplica = connectionsPerReplica
            self.historyWindow = historyWindow
        }
    }

    /// The connections of one server that has a replica.
    private struct Server: Sendable {
        /// To the primary: its WAL position, for fences and measurements (never a row read).
        let primaryProbe: PostgresPool
        /// The primary's position after a read began, one statement shared by the reads that wait for it.
        let fence: WALFence
        /// To the replica: the reads.
        let replica: PostgresPool
        /// To the replica: the monitor's measurements, so that they never wait behind reads.
        let replicaProbe: PostgresPool
    }

    /// What is known of one server's replica.
    private struct ServerState: Sendable {
        var health = ReplicaHealth()
        var history: PrimaryWALHistory
    }

    /// The replica had not replayed the fence within the catch-up wait.
    private struct Behind: Error {}

    public let configuration: Configuration
    private let servers: [Server?]
    private let states: Mutex<[ServerState]>
    private let replicaReads = Atomic<Int>(0)
    private let primaryReads = Mutex<[ReplicaHealth.Reason: Int]>([:])
    private let servedByReplica: [Counter]
    private let servedByPrimary: [[ReplicaHealth.Reason: Counter]]
    private let lagGauges: [Gauge]
    private let logger: Logger

    /// - Parameter primaries: the primaries' connection strings, in shard-map order (one small probe pool each).
    public init(primaries: [String], configuration: Configuration, logger: Logger) {
        precondition(primaries.count == configuration.replicas.count, "one replica entry per primary")
        self.configuration = configuration
        self.servers = zip(primaries, configuration.replicas).map { primary, replica in
            replica.map { replica in
                let probe = PostgresPool(
                    configuration: PostgresPool.Configuration(conninfo: primary, connections: 2), logger: logger)
                // Reads on a replica wait less for a connection and run shorter than on a primary: the primary that
                // answers when they fail still has its whole bound inside the caller's deadline.
                return Server(
                    primaryProbe: probe,
                    fence: WALFence {
                        try await probe.withConnection { try Self.position(Self.primaryPosition, on: $0) }
                    },
                    replica: PostgresPool(
                        configuration: PostgresPool.Configuration(
                            conninfo: replica, connections: configuration.connectionsPerReplica,
                            maxWait: .milliseconds(250), statementTimeout: .seconds(1)),
                        logger: logger),
                    replicaProbe: PostgresPool(
                        configuration: PostgresPool.Configuration(
                            conninfo: replica, connections: 1, maxWait: .milliseconds(250),
                            statementTimeout: .milliseconds(500)),
                        logger: logger)
                )
            }
        }
        self.states = Mutex(
            primaries.indices.map { _ in ServerState(history: PrimaryWALHistory(window: configuration.historyWindow)) })
        self.servedByReplica = primaries.indices.map {
            Counter(
                label: "tweet_service_replica_reads_total", dimensions: [("server", "\($0)"), ("served_by", "replica")])
        }
        self.servedByPrimary = primaries.indices.map { server in
            Dictionary(
                uniqueKeysWithValues: ReplicaHealth.Reason.allCases.map { reason in
                    (
                        reason,
                        Counter(
                            label: "tweet_service_replica_reads_total",
                            dimensions: [
                                ("server", "\(server)"), ("served_by", "primary"), ("reason", reason.rawValue),
                            ])
                    )
                })
        }
        self.lagGauges = primaries.indices.map {
            Gauge(label: "tweet_service_replica_lag_seconds", dimensions: [("server", "\($0)")])
        }
        self.logger = logger
    }

    /// Lag-tolerant reads answered by a replica so far.
    public var readsServedByReplicas: Int { replicaReads.load(ordering: .relaxed) }
    /// Lag-tolerant reads answered by a primary so far (no replica, or it was skipped, behind, or failed).
    public var readsServedByPrimaries: Int { primaryReads.withLock { $0.values.reduce(0, +) } }

    /// Lag-tolerant reads answered by a primary so far for `reason`.
    func readsServedByPrimaries(because reason: ReplicaHealth.Reason) -> Int {
        primaryReads.withLock { $0[reason, default: 0] }
    }

    /// The replica of `server`, if it has one: servers that joined the shard catalog after start (a rebalance onto a
    /// new server) have none, and their reads go to them.
    private func replicaPools(ofServer server: Int) -> Server? {
        servers.indices.contains(server) ? servers[server] : nil
    }

    /// The route a lag-tolerant read on `server` would take now, before its fence.
    func route(onServer server: Int) -> ReplicaHealth.Route {
        guard replicaPools(ofServer: server) != nil else { return .primary(.none) }
        return states.withLock {
            $0[server].health.route(at: .now, maxLag: configuration.maxLag, maxAge: configuration.maxMeasurementAge)
        }
    }

    /// Runs the read `body` on `server`'s replica when it has caught up, and otherwise (or when it fails there) with
    /// `onPrimary`, which runs it on the primary.
    func read<Result: Sendable>(
        onServer server: Int,
        _ body: @escaping @Sendable (PostgresConnection) throws -> Result,
        onPrimary: () async throws -> Result
    ) async throws -> Result {
        let pools: Server
        switch (route(onServer: server), replicaPools(ofServer: server)) {
        case (.replica, let server?):
            pools = server
        case (.primary(let reason), _):
            return try await servedByThePrimary(server, reason, onPrimary)
        case (.replica, nil):
            return try await servedByThePrimary(server, .none, onPrimary)
        }
        let fence: Int64
        do {
            fence = try await pools.fence.position()
        } catch {
            return try await servedByThePrimary(server, .unmeasured, onPrimary)
        }
        let catchUpWait = configuration.catchUpWait
        do {
            let result = try await pools.replica.withConnection { connection in
                let deadline = ContinuousClock.now + catchUpWait
                while try Self.position(Self.replayedPosition, on: connection) < fence {
                    guard ContinuousClock.now < deadline else { throw Behind() }
                    usleep(200)
                }
                return try body(connection)
            }
            replicaReads.add(1, ordering: .relaxed)
            servedByReplica[server].increment()
            return result
        } catch is Behind {
            return try await servedByThePrimary(server, .behind, onPrimary)
        } catch {
            if states.withLock({ $0[server].health.failed(at: .now) }) {
                logger.warning(
                    "replica read failed; reads go to the primary until the replica is measured again",
                    metadata: ["server": "\(server)", "error": "\(error)"])
            }
            return try await servedByThePrimary(server, .failed, onPrimary)
        }
    }

    /// The servers that have a replica.
    var serversWithReplicas: [Int] { servers.indices.filter { servers[$0] != nil } }

    /// Measures every replica once, concurrently.
    public func measure() async {
        await withTaskGroup(of: Void.self) { group in
            for server in serversWithReplicas {
                group.addTask { await self.measure(server: server) }
            }
        }
    }

    /// Measures the replica of `server`: the primary's WAL position, then the replica's replay position.
    /// ``ReplicaMonitor`` calls it every ``Configuration/measurementInterval``.
    func measure(server: Int) async {
        guard let pools = servers[server] else { return }
        do {
            let primary = try await pools.primaryProbe.withConnection {
                try Self.position(Self.primaryPosition, on: $0)
            }
            let sampledAt = ContinuousClock.now
            let replayed = try await pools.replicaProbe.withConnection {
                try Self.position(Self.replayedPosition, on: $0)
            }
            let lag = states.withLock { state -> Duration? in
                let now = ContinuousClock.now
                state[server].history.record(position: primary, at: sampledAt)
                let lag = state[server].history.lag(ofReplayed: replayed, at: now)
                state[server].health.measured(lag: lag, at: now)
                return lag
            }
            lagGauges[server].record(lag?.inSeconds ?? configuration.historyWindow.inSeconds)
        } catch {
            if states.withLock({ $0[server].health.failed(at: .now) }) {
                logger.warning(
                    "cannot measure the replica; reads go to the primary until it is measured again",
                    metadata: ["server": "\(server)", "error": "\(error)"])
            }
        }
    }

    private func servedByThePrimary<Result>(
        _ server: Int, _ reason: ReplicaHealth.Reason, _ onPrimary: () async throws -> Result
    ) async throws -> Result {
        primaryReads.withLock { $0[reason, default: 0] += 1 }
        servedByPrimary[server][reason]?.increment()
        return try await onPrimary()
    }

    /// The primary's WAL position now, in bytes since `0/0`.
    private static let primaryPosition = PreparedStatement(
        name: "replica_fence", sql: "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS position")
    /// The replica's replay position, in bytes since `0/0`; NULL on a server that is not replaying (a primary).
    private static let replayedPosition = PreparedStatement(
        name: "replica_replayed", sql: "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS position")

    private static func position(_ statement: PreparedStatement, on connection: PostgresConnection) throws -> Int64 {
        guard let position = try connection.execute(statement).all.first?.optionalInt64("position") else {
            throw PostgresError(.unavailable, "the server is not a replica in recovery")
        }
        return position
    }

    public func shutdown() async throws {
        for server in servers.compactMap(\.self) {
            try await server.primaryProbe.shutdown()
            try await server.replica.shutdown()
            try await server.replicaProbe.shutdown()
        }
    }
}
