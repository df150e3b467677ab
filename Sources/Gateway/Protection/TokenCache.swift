import Synchronization
import Wire

/// Session tokens the TweetService confirmed recently, so that a client's burst of calls costs one `resolve_token`.
///
/// An entry lives for ``Configuration/ttl``, at most ``Configuration/maxTTL``: a token revoked through another Gateway
/// (or expired) keeps working here at most that long. Only
/// confirmations are cached; an unknown token is asked about again (and the rate limiter, which charges unverified
/// tokens to the client's address, bounds how often).
public final class TokenCache: Sendable {
    /// How long and how many confirmations are kept.
    public struct Configuration: Sendable, Hashable {
        /// The longest ``ttl`` allowed: the API promises that a signed-out token is refused everywhere within it.
        public static let maxTTL: Duration = .seconds(5)

        /// How long a confirmation is trusted; zero turns the cache off; at most ``maxTTL``.
        public var ttl: Duration
        /// Tokens kept at once; the cache's memory bound.
        public var maxEntries: Int

        /// - Parameters:
        ///   - ttl: 5 s by default.
        ///   - maxEntries: 50,000 by default.
        public init(ttl: Duration = .seconds(5), maxEntries: Int = 50_000) {
            self.ttl = ttl
            self.maxEntries = maxEntries
        }

        func validate() throws(GatewayError) {
            guard ttl >= .zero, ttl <= Self.maxTTL, maxEntries >= 1 else {
                throw GatewayError(
                    .invalidConfiguration, "the token cache needs a TTL from 0 to 5 s and room for one entry")
            }
        }
    }

    private struct Entry {
        var user: UserRecord
        var expiresAt: ContinuousClock.Instant
    }

    public let configuration: Configuration
    private let entries: Mutex<BoundedTable<String, Entry>>

    public init(configuration: Configuration) {
        self.configuration = configuration
        entries = Mutex(BoundedTable(capacity: max(1, configuration.maxEntries)))
    }

    /// The user `token` belongs to, if it was confirmed less than ``Configuration/ttl`` ago.
    func user(for token: String, now: ContinuousClock.Instant = .now) -> UserRecord? {
        entries.withLock { table in
            guard let entry = table[token] else { return nil }
            guard entry.expiresAt > now else {
                table.removeValue(for: token)
                return nil
            }
            return entry.user
        }
    }

    /// Remembers that `token` belongs to `user`.
    func store(_ user: UserRecord, for token: String, now: ContinuousClock.Instant = .now) {
        guard configuration.ttl > .zero else { return }
        let entry = Entry(user: user, expiresAt: now + configuration.ttl)
        entries.withLock { table in
            table.insert(entry, for: token) { $0.expiresAt <= now }
        }
    }

    /// Forgets `token` (signed out here: refused at once by this Gateway, by others once their entry expires).
    func remove(_ token: String) {
        entries.withLock { $0.removeValue(for: token) }
    }

    /// Tokens held right now, expired ones included until they are swept (for tests of the memory bound).
    var count: Int {
        entries.withLock { $0.count }
    }
}
