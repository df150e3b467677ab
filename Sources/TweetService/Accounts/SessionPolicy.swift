/// How long a session token stays valid, and how its expiry slides with use.
///
/// A session expires ``lifetime`` after it was last renewed. Resolving a token renews it to a full lifetime, but only
/// when at least ``renewalInterval`` has passed since the last renewal (that is, when less than
/// `lifetime - renewalInterval` remains): a token in constant use costs one PostgreSQL write per interval, not one per
/// request. With the defaults a session dies after 30 days unused, and one used daily never does. Signing in adds a
/// session and never touches the user's others (other devices stay signed in); signing out deletes one.
public struct SessionPolicy: Sendable, Hashable {
    /// How long an unused session lives.
    public var lifetime: Duration
    /// The least time between two renewals of one session; at most ``lifetime``.
    public var renewalInterval: Duration

    /// - Parameters:
    ///   - lifetime: 30 days by default.
    ///   - renewalInterval: 1 day by default.
    public init(lifetime: Duration = .seconds(30 * 86_400), renewalInterval: Duration = .seconds(86_400)) {
        self.lifetime = lifetime
        self.renewalInterval = renewalInterval
    }

    /// The lifetime in whole milliseconds, as the SQL takes it.
    var lifetimeMilliseconds: String {
        String(Self.milliseconds(lifetime))
    }

    /// A session whose expiry is nearer than this (in milliseconds) is renewed when used.
    var renewBelowMilliseconds: String {
        String(max(0, Self.milliseconds(lifetime) - Self.milliseconds(renewalInterval)))
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
