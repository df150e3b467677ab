import Synchronization
import Wire

/// Whom a request is charged to: the session token once it is known to be valid, else the client's address.
///
/// Charging unverified tokens to the address keeps a client from escaping its limit by inventing tokens.
enum RateLimitKey: Hashable, Sendable {
    case token(String)
    case address(String)
}

/// A token bucket per client, in memory that stays bounded however many clients there are.
///
/// Buckets that have refilled are indistinguishable from new ones, so they are the first to go when the table is
/// full (see ``BoundedTable``). Each Gateway limits on its own: with N Gateways behind a balancer a client gets up to N
/// times the rate, which the Gateway's statelessness is worth.
public final class RateLimiter: Sendable {
    /// How fast clients may call, and how many clients are tracked.
    public struct Configuration: Sendable, Hashable {
        /// Sustained requests per second per client; 0 turns rate limiting off.
        public var requestsPerSecond: Double
        /// Requests a client may make at once after a quiet spell.
        public var burst: Int
        /// Clients tracked at once; the table's memory bound.
        public var maxClients: Int

        /// - Parameters:
        ///   - requestsPerSecond: 20 by default; 0 disables limiting.
        ///   - burst: 40 by default.
        ///   - maxClients: 100,000 by default (a few MiB).
        public init(requestsPerSecond: Double = 20, burst: Int = 40, maxClients: Int = 100_000) {
            self.requestsPerSecond = requestsPerSecond
            self.burst = burst
            self.maxClients = maxClients
        }

        public var isEnabled: Bool { requestsPerSecond > 0 }

        func validate() throws(GatewayError) {
            guard requestsPerSecond >= 0, requestsPerSecond.isFinite else {
                throw GatewayError(.invalidConfiguration, "the rate limit must be a non-negative number")
            }
            guard !isEnabled || (burst >= 1 && maxClients >= 1) else {
                throw GatewayError(.invalidConfiguration, "the rate limit's burst and client table must be positive")
            }
        }
    }

    public let configuration: Configuration
    private let buckets: Mutex<BoundedTable<RateLimitKey, TokenBucket>>

    public init(configuration: Configuration) {
        self.configuration = configuration
        buckets = Mutex(BoundedTable(capacity: max(1, configuration.maxClients)))
    }

    /// Charges one request to `key`.
    func admit(_ key: RateLimitKey, now: ContinuousClock.Instant = .now) -> TokenBucket.Decision {
        guard configuration.isEnabled else { return .allowed }
        let rate = configuration.requestsPerSecond
        let capacity = configuration.burst
        return buckets.withLock { table in
            var bucket = table[key] ?? TokenBucket(capacity: capacity, now: now)
            let decision = bucket.take(rate: rate, capacity: capacity, now: now)
            table.store(bucket, for: key, rate: rate, capacity: capacity, now: now)
            return decision
        }
    }

    /// Clients with a bucket right now (for tests of the memory bound).
    var trackedClients: Int {
        buckets.withLock { $0.count }
    }
}

extension BoundedTable where Value == TokenBucket {
    /// Stores `bucket`; when the table is full, refilled buckets go first, then the fullest: dropping an empty one
    /// would hand its client a fresh burst.
    mutating func store(_ bucket: TokenBucket, for key: Key, rate: Double, capacity: Int, now: ContinuousClock.Instant)
    {
        insert(
            bucket, for: key, isStale: { $0.isFull(rate: rate, capacity: capacity, now: now) },
            evictFirst: { $0.available(rate: rate, capacity: capacity, now: now) }
        )
    }
}

/// One client's allowance: up to `capacity` requests at once, refilled at `rate` requests per second.
///
/// Pure arithmetic on the instants it is given, so tests can drive it with made-up times.
struct TokenBucket: Sendable {
    /// How a request fared.
    enum Decision: Sendable, Hashable {
        case allowed
        /// Over the limit; a token will be there after this many whole seconds (at least 1).
        case limited(retryAfterSeconds: Int)
    }

    private(set) var tokens: Double
    private(set) var updatedAt: ContinuousClock.Instant

    /// A full bucket.
    init(capacity: Int, now: ContinuousClock.Instant) {
        tokens = Double(capacity)
        updatedAt = now
    }

    /// Takes one token if there is one.
    mutating func take(rate: Double, capacity: Int, now: ContinuousClock.Instant) -> Decision {
        refill(rate: rate, capacity: capacity, now: now)
        if tokens >= 1 {
            tokens -= 1
            return .allowed
        }
        let wait = (1 - tokens) / rate
        // Clamped to a day, so that a tiny configured rate cannot overflow the conversion.
        return .limited(retryAfterSeconds: max(1, Int(min(wait, 86_400).rounded(.up))))
    }

    /// Whether the bucket would be full by `now`: then it is no different from a new one and may be forgotten.
    func isFull(rate: Double, capacity: Int, now: ContinuousClock.Instant) -> Bool {
        available(rate: rate, capacity: capacity, now: now) >= Double(capacity)
    }

    /// The tokens the bucket would hold by `now`.
    func available(rate: Double, capacity: Int, now: ContinuousClock.Instant) -> Double {
        min(Double(capacity), tokens + rate * (now - updatedAt).inSeconds)
    }

    /// Gives back one token taken for something that turned out not to count.
    mutating func giveBack(capacity: Int) {
        tokens = min(Double(capacity), tokens + 1)
    }

    private mutating func refill(rate: Double, capacity: Int, now: ContinuousClock.Instant) {
        guard now > updatedAt else { return }
        tokens = min(Double(capacity), tokens + rate * (now - updatedAt).inSeconds)
        updatedAt = now
    }
}
