import Synchronization
import Wire

/// Limits on the two routes that hash a password (sign-in and sign-up), so that guessing passwords costs the guesser,
/// not the service, and never locks a real owner out for long.
///
/// - Failed sign-ins per username **from one address** (10 per 15 minutes by default), and per username **from all
///   addresses** (100 per 15 minutes), each a token bucket that refills evenly over the window: once limited, a guesser
///   gets one more try every window/limit (90 s), never a fresh burst.
/// - An address that signed in as a user in the last window is exempt from that username's all-address ceiling, so a
///   flood from elsewhere cannot lock the owner out of a device they use; and a success clears that address's
///   failures for the username.
/// - Password requests in flight per address (1): a client that opens many connections still holds at most one of the
///   TweetService's hashing threads, so a flood from one address cannot queue ahead of everyone else.
/// - Sign-ups per address (20 an hour, refilled evenly).
/// - Backoff: an address that collects 10 refusals (one forgiven a second) has every password request refused, so a
///   client that ignores `Retry-After` and keeps hammering gets nothing hashed at all until it slows down.
///
/// An attempt is charged when it starts (concurrent guesses cannot slip past a limit while the first ones are being
/// checked) and refunded when it turns out not to count: the service was unavailable or busy. Every table is a
/// ``BoundedTable``; the in-flight counts are bounded by the connections the Gateway holds. Each Gateway limits on its
/// own, like ``RateLimiter``.
public final class SignInGuard: Sendable {
    /// The limits; 0 turns a limit off.
    public struct Configuration: Sendable, Hashable {
        /// Failed sign-ins for one username from one address per ``failureWindow``.
        public var failuresPerUsernameAndAddress: Int
        /// Failed sign-ins for one username from all addresses per ``failureWindow``.
        public var failuresPerUsername: Int
        /// The window both failure limits refill over.
        public var failureWindow: Duration
        /// Sign-ins and sign-ups one address may have in flight at once.
        public var passwordRequestsPerAddress: Int
        /// Sign-ups from one address per hour.
        public var signUpsPerAddressPerHour: Int
        /// Refusals an address may collect before all its password requests are refused (0 turns this off); one
        /// is forgiven per ``backoffRefill``. A client that ignores `Retry-After` thus stops costing any hashing.
        public var refusalsBeforeBackoff: Int
        public var backoffRefill: Duration
        /// How long a refusal of an address that is backing off waits before it is answered (a tarpit): a client
        /// that hammers costs the Gateway a timer instead of hundreds of answers a second.
        public var backoffAnswerDelay: Duration
        /// Keys tracked per table; the memory bound.
        public var maxTracked: Int

        public init(
            failuresPerUsernameAndAddress: Int = 10, failuresPerUsername: Int = 100,
            failureWindow: Duration = .seconds(15 * 60), passwordRequestsPerAddress: Int = 1,
            signUpsPerAddressPerHour: Int = 20, refusalsBeforeBackoff: Int = 10, backoffRefill: Duration = .seconds(1),
            backoffAnswerDelay: Duration = .milliseconds(250), maxTracked: Int = 100_000
        ) {
            self.backoffAnswerDelay = backoffAnswerDelay
            self.refusalsBeforeBackoff = refusalsBeforeBackoff
            self.backoffRefill = backoffRefill
            self.failuresPerUsernameAndAddress = failuresPerUsernameAndAddress
            self.failuresPerUsername = failuresPerUsername
            self.failureWindow = failureWindow
            self.passwordRequestsPerAddress = passwordRequestsPerAddress
            self.signUpsPerAddressPerHour = signUpsPerAddressPerHour
            self.maxTracked = maxTracked
        }

        func validate() throws(GatewayError) {
            let counts = [
                failuresPerUsernameAndAddress, failuresPerUsername, passwordRequestsPerAddress,
                signUpsPerAddressPerHour, refusalsBeforeBackoff,
            ]
            guard counts.allSatisfy({ $0 >= 0 }), failureWindow > .zero, backoffRefill > .zero,
                backoffAnswerDelay >= .zero, maxTracked >= 1
            else {
                throw GatewayError(
                    .invalidConfiguration, "sign-in limits must be non-negative, with a positive window and table")
            }
        }
    }

    /// An admitted attempt, to be finished exactly once with its ``Outcome``.
    struct Ticket: Sendable {
        fileprivate let address: String
        /// The lowercased username of a sign-in; `nil` for a sign-up.
        fileprivate let username: String?
        /// Whether the attempt was charged to the username's all-address ceiling (a trusted address is not).
        fileprivate var chargedUsername = false
    }

    enum Outcome: Sendable {
        case succeeded
        /// Wrong credentials (sign-in) or a hash that ran (sign-up): it counts.
        case failed
        /// The service never checked the password (down, busy, timed out): refunded.
        case notTried
    }

    private struct PairKey: Hashable {
        var username: String
        var address: String
    }

    private struct State {
        var pairs: BoundedTable<PairKey, TokenBucket>
        var usernames: BoundedTable<String, TokenBucket>
        /// Addresses that signed in as a username, until when they are exempt from its all-address ceiling.
        var trusted: BoundedTable<PairKey, ContinuousClock.Instant>
        var signUps: BoundedTable<String, TokenBucket>
        /// Refusals per address: an address that keeps sending after being refused gets nothing hashed.
        var backoff: BoundedTable<String, TokenBucket>
        var inFlight: [String: Int] = [:]
    }

    public let configuration: Configuration
    private let state: Mutex<State>

    public init(configuration: Configuration) {
        self.configuration = configuration
        let capacity = max(1, configuration.maxTracked)
        state = Mutex(
            State(
                pairs: BoundedTable(capacity: capacity), usernames: BoundedTable(capacity: capacity),
                trusted: BoundedTable(capacity: capacity), signUps: BoundedTable(capacity: capacity),
                backoff: BoundedTable(capacity: capacity)))
    }

    private func failureRate(_ limit: Int) -> Double {
        Double(limit) / configuration.failureWindow.inSeconds
    }

    private var signUpRate: Double { Double(configuration.signUpsPerAddressPerHour) / 3600 }

    /// Admits a sign-in as `username` from `address`, charging it as a failure until ``finish(_:_:now:)`` says
    /// otherwise.
    func beginSignIn(
        username: String, address: String, now: ContinuousClock.Instant = .now
    ) -> Result<Ticket, Refusal> {
        let username = username.lowercased()
        let pair = PairKey(username: username, address: address)
        let perPair = configuration.failuresPerUsernameAndAddress
        let perName = configuration.failuresPerUsername
        return decide(address: address, now: now) { state in
            var pairBucket = state.pairs[pair] ?? TokenBucket(capacity: perPair, now: now)
            var nameBucket = state.usernames[username] ?? TokenBucket(capacity: perName, now: now)
            if perPair > 0,
                case .limited(let wait) = pairBucket.take(rate: failureRate(perPair), capacity: perPair, now: now)
            {
                return .failure(Refusal(retryAfterSeconds: wait))
            }
            let isTrusted = state.trusted[pair].map { $0 > now } ?? false
            if perName > 0, !isTrusted,
                case .limited(let wait) = nameBucket.take(rate: failureRate(perName), capacity: perName, now: now)
            {
                return .failure(Refusal(retryAfterSeconds: wait))
            }
            if perPair > 0 {
                state.pairs.store(pairBucket, for: pair, rate: failureRate(perPair), capacity: perPair, now: now)
            }
            if perName > 0, !isTrusted {
                state.usernames.store(
                    nameBucket, for: username, rate: failureRate(perName), capacity: perName, now: now)
            }
            state.inFlight[address, default: 0] += 1
            return .success(Ticket(address: address, username: username, chargedUsername: perName > 0 && !isTrusted))
        }
    }

    /// Admits a sign-up from `address`.
    func beginSignUp(address: String, now: ContinuousClock.Instant = .now) -> Result<Ticket, Refusal> {
        let perHour = configuration.signUpsPerAddressPerHour
        return decide(address: address, now: now) { state in
            if perHour > 0 {
                var bucket = state.signUps[address] ?? TokenBucket(capacity: perHour, now: now)
                if case .limited(let wait) = bucket.take(rate: signUpRate, capacity: perHour, now: now) {
                    return .failure(Refusal(retryAfterSeconds: wait))
                }
                state.signUps.store(bucket, for: address, rate: signUpRate, capacity: perHour, now: now)
            }
            state.inFlight[address, default: 0] += 1
            return .success(Ticket(address: address, username: nil))
        }
    }

    /// Ends an admitted attempt: frees its in-flight place and settles its charge.
    func finish(_ ticket: Ticket, _ outcome: Outcome, now: ContinuousClock.Instant = .now) {
        let perPair = configuration.failuresPerUsernameAndAddress
        let perName = configuration.failuresPerUsername
        let window = configuration.failureWindow
        state.withLock { state in
            let remaining = (state.inFlight[ticket.address] ?? 1) - 1
            state.inFlight[ticket.address] = remaining > 0 ? remaining : nil
            guard let username = ticket.username else {
                let perHour = configuration.signUpsPerAddressPerHour
                if case .notTried = outcome, var bucket = state.signUps[ticket.address] {
                    bucket.giveBack(capacity: perHour)
                    state.signUps.store(bucket, for: ticket.address, rate: signUpRate, capacity: perHour, now: now)
                }
                return
            }
            let pair = PairKey(username: username, address: ticket.address)
            switch outcome {
            case .failed:
                return
            case .succeeded:
                state.pairs.removeValue(for: pair)
                state.trusted.insert(now + window, for: pair, isStale: { $0 <= now })
            case .notTried:
                if var bucket = state.pairs[pair] {
                    bucket.giveBack(capacity: perPair)
                    state.pairs.store(bucket, for: pair, rate: failureRate(perPair), capacity: perPair, now: now)
                }
            }
            // Neither a success nor an attempt that never ran counts against the username from everywhere.
            if ticket.chargedUsername, var bucket = state.usernames[username] {
                bucket.giveBack(capacity: perName)
                state.usernames.store(bucket, for: username, rate: failureRate(perName), capacity: perName, now: now)
            }
        }
    }

    /// Runs `admit` for a request from `address` unless the address is backing off or has its allowance in flight;
    /// a refusal, whatever its reason, is charged to the address's backoff bucket.
    private func decide(
        address: String, now: ContinuousClock.Instant, _ admit: (inout State) -> Result<Ticket, Refusal>
    ) -> Result<Ticket, Refusal> {
        let inFlightLimit = configuration.passwordRequestsPerAddress
        let backoffLimit = configuration.refusalsBeforeBackoff
        let backoffRate = 1 / configuration.backoffRefill.inSeconds
        return state.withLock { state in
            var backoff = state.backoff[address] ?? TokenBucket(capacity: max(1, backoffLimit), now: now)
            let result: Result<Ticket, Refusal>
            if backoffLimit > 0, backoff.available(rate: backoffRate, capacity: backoffLimit, now: now) < 1 {
                result = .failure(
                    Refusal(
                        retryAfterSeconds: max(1, Int(configuration.backoffRefill.inSeconds)),
                        answerAfter: configuration.backoffAnswerDelay))
            } else if inFlightLimit > 0, state.inFlight[address, default: 0] >= inFlightLimit {
                result = .failure(Refusal(retryAfterSeconds: 1))
            } else {
                result = admit(&state)
            }
            if backoffLimit > 0, case .failure = result {
                _ = backoff.take(rate: backoffRate, capacity: backoffLimit, now: now)
                state.backoff.store(backoff, for: address, rate: backoffRate, capacity: backoffLimit, now: now)
            }
            return result
        }
    }

    /// Keys tracked right now in the largest table (for tests of the memory bound).
    var trackedKeys: Int {
        state.withLock { max($0.pairs.count, $0.usernames.count, $0.trusted.count, $0.signUps.count, $0.backoff.count) }
    }
}

/// Why an attempt was not admitted: over a limit, with how long to wait.
struct Refusal: Error, Hashable {
    var retryAfterSeconds: Int
    /// How long to hold the answer (non-zero only for an address that is backing off).
    var answerAfter: Duration = .zero
}
