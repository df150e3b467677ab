extension RedisClient {
    /// How a ``RedisClient`` reaches Redis and how patient it is. The defaults suit a local cluster.
    public struct Configuration: Sendable {
        /// What is on the other side.
        public enum Mode: Sendable, Hashable {
            /// A Redis Cluster. Any reachable seed is enough: the client asks it for the slot map
            /// (`CLUSTER SLOTS`) and connects to the masters it names.
            case cluster(seeds: [RedisNodeAddress])
            /// One server that holds every key; redirects are not followed (a `MOVED` stays an error reply).
            case standalone(RedisNodeAddress)
        }

        public var mode: Mode
        /// Connections kept to each node. Each carries pipelined batches; more spread the work over event loops.
        public var connectionsPerNode: Int
        /// TCP connect to one node.
        public var connectTimeout: Duration
        /// How long a batch written to a node may wait for its last reply. When it passes, the connection is
        /// closed and its waiting commands fail with ``RedisError/Code/timeout``.
        public var commandTimeout: Duration
        /// How often one command may be redirected (`MOVED`, `ASK`) or told to retry (`TRYAGAIN`) before it fails
        /// with ``RedisError/Code/tooManyRedirects``.
        public var maxRedirects: Int
        /// The pause before retrying a command that got `TRYAGAIN`; it grows linearly with each retry.
        public var tryAgainDelay: Duration
        /// How often ``RedisClient/run()`` refreshes the slot map on its own, besides the refreshes that `MOVED`
        /// replies and failed connections cause; `nil` for never.
        public var topologyRefreshInterval: Duration?
        /// Bounds on one reply; a larger one closes the connection with ``RedisError/Code/replyTooLarge``.
        public var replyLimits: RESPReaderLimits

        /// Creates a configuration; every value but `mode` has a default.
        public init(
            mode: Mode,
            connectionsPerNode: Int = 2,
            connectTimeout: Duration = .seconds(1),
            commandTimeout: Duration = .seconds(5),
            maxRedirects: Int = 5,
            tryAgainDelay: Duration = .milliseconds(25),
            topologyRefreshInterval: Duration? = .seconds(30),
            replyLimits: RESPReaderLimits = RESPReaderLimits()
        ) {
            if case .cluster(let seeds) = mode {
                precondition(!seeds.isEmpty, "a Redis Cluster configuration needs at least one seed")
            }
            self.mode = mode
            self.connectionsPerNode = max(1, connectionsPerNode)
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.maxRedirects = max(0, maxRedirects)
            self.tryAgainDelay = tryAgainDelay
            self.topologyRefreshInterval = topologyRefreshInterval
            self.replyLimits = replyLimits
        }

        /// A cluster configuration from a comma-separated seed list such as the `TWEETER_REDIS_CLUSTER` variable
        /// (`127.0.0.1:17001,127.0.0.1:17002`); `nil` if the list is empty or an entry is not `host:port`.
        public init?(clusterSeeds text: String) {
            guard let seeds = RedisNodeAddress.list(text) else { return nil }
            self.init(mode: .cluster(seeds: seeds))
        }
    }
}
