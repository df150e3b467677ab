/// What a Wire peer is, said in its hello and bound into its proof. A server serves each method only to the roles
/// that method names (``WireMethod/callers``), so that a peer in one role cannot do what only another role needs.
///
/// Every role proves that it holds the cluster's service key; the role itself is the peer's word. The table is a wall
/// against mistakes and a limit on what a stolen client in one role can reach, not a defence against a holder of the
/// key (see `docs/wire.md`, "Trust model").
public enum WirePeerRole: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The public front door: acts on behalf of signed-in users.
    case gateway
    /// The source of truth: delivers its events to the timelines.
    case tweetService = "tweet-service"
    /// The timelines: reads the social graph and tweets to fan out and to rebuild.
    case timelineService = "timeline-service"
    /// Tools of the people who run the system: benchmarks, probes, metrics scrapers.
    case `operator`

    public var description: String { rawValue }
}

/// The roles that may call one method.
public struct WireCallers: Sendable, Hashable {
    public let roles: Set<WirePeerRole>

    public init(_ roles: WirePeerRole...) {
        self.roles = Set(roles)
    }

    /// Every role: health checks.
    public static let everyone = WireCallers(roles: Set(WirePeerRole.allCases))

    private init(roles: Set<WirePeerRole>) {
        self.roles = roles
    }

    public func allows(_ role: WirePeerRole) -> Bool {
        roles.contains(role)
    }
}
