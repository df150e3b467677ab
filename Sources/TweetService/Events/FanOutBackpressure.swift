import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import Wire

/// Holds tweet creation back while the fan-out is behind, so that a follower's wait for a new tweet stays bounded
/// when tweets are created faster than the timelines can take them.
///
/// Without it, creation on a busy machine outruns the fan-out and the queue, and with it every follower's wait, grows
/// for as long as the load lasts. With it, ``admit()`` (called before a tweet is stored) lets a creation through at
/// once while the fan-out's delay (as ``ReadDelay`` reads it: the oldest fan-out job no worker has taken, and in the
/// services the relay's ``OutboxRelay/deliveryLag`` too) is under ``Configuration/delayLimit``; otherwise the
/// creation waits until the delay falls, at most ``Configuration/maxWait``, and then goes ahead. Callers that wait
/// for each answer before sending the next (a user, a connection, a benchmark's closed loop) so slow to the rate the
/// fan-out sustains. Only when ``Configuration/maxWaiting`` creations already wait is one refused, at once, with
/// `resource_exhausted/fan_out_behind` (the Gateway's 503), before anything is stored: that is what bounds creations
/// that arrive on their own schedule (with the 500 ms hold, past about 2,000 a second on one instance).
///
/// A fan-out that is behind because of a fault on its path while the TimelineService still answers (a locked shard
/// under its follower pages, slow replicas) costs creation at most ``Configuration/maxWait`` per tweet, not an error.
/// The hold is part of a creation's time budget: ``TweetStore/create(_:storeBy:)`` refuses to start storing once the
/// budget for reaching the store is spent, so that a creation never commits after its caller gave up
/// (see docs/guarantees.md, section 3).
///
/// The delay is read from the TimelineService (`read_fan_out_delay`) every ``Configuration/pollInterval`` while
/// tweets are being created (within the last second, or while the last reading was behind), and not at all
/// otherwise. It fails open: a reading that failed (the TimelineService or a Redis master out of reach), or one
/// older than four intervals, holds nothing back (the events wait in the outbox; creation must not stop because a
/// monitor could not ask). Metrics: `tweet_service_creations_held_total`, `tweet_service_creations_refused_total`
/// (`reason="fan_out_behind"`), `tweet_service_fan_out_delay_reads_failed_total`.
public final class FanOutBackpressure: Service, Sendable {
    public struct Configuration: Sendable {
        /// How long the oldest untaken fan-out job may have waited before creations are held back.
        public var delayLimit: Duration
        /// How often the delay is read while tweets are being created.
        public var pollInterval: Duration
        /// How long a held creation waits for the delay to fall before it goes ahead anyway.
        public var maxWait: Duration
        /// Creations that may wait at once; more are refused at once.
        public var maxWaiting: Int

        public init(
            delayLimit: Duration = .milliseconds(300), pollInterval: Duration = .milliseconds(100),
            maxWait: Duration = .milliseconds(500), maxWaiting: Int = 1_000
        ) {
            self.delayLimit = delayLimit
            self.pollInterval = pollInterval
            self.maxWait = maxWait
            self.maxWaiting = maxWaiting
        }
    }

    /// Reads the fan-out's delay: how long the oldest job no worker has taken has waited.
    public typealias ReadDelay = @Sendable () async throws -> Duration

    /// The fan-out's delay as a TweetService reads it: the larger of the TimelineService's (the oldest queued job no
    /// worker has taken, `read_fan_out_delay`) and `relay`'s ``OutboxRelay/deliveryLag``, since created tweets are
    /// applied on delivery. Throws when the TimelineService cannot be asked, so that the backpressure fails open.
    public static func delay(of timelineService: WireClient, relay: OutboxRelay) async throws -> Duration {
        let delay = try await timelineService.call(ReadFanOutDelay.self, WireEmpty(), timeout: .seconds(1))
        return max(.milliseconds(delay.oldestWaitMillis), relay.deliveryLag)
    }

    private struct State {
        /// Whether the last reading was over the limit.
        var behind = false
        /// When the last reading was asked for (nil: the last one failed).
        var readAt: ContinuousClock.Instant?
        /// When a creation last asked to be admitted.
        var askedAt: ContinuousClock.Instant?
        var waiting = 0
        /// Whether the last reading failed (logged once per run of failures).
        var failing = false
    }

    public let configuration: Configuration
    private let readDelay: ReadDelay
    private let logger: Logger
    private let state = Mutex(State())
    private let clock = ContinuousClock()
    private let held = Counter(label: "tweet_service_creations_held_total")
    private let refused = Counter(
        label: "tweet_service_creations_refused_total", dimensions: [("reason", "fan_out_behind")])
    private let failedReads = Counter(label: "tweet_service_fan_out_delay_reads_failed_total")
    /// How recently a creation must have asked for the delay to be read.
    private static let askedWithin: Duration = .seconds(1)

    public init(configuration: Configuration = Configuration(), logger: Logger, readDelay: @escaping ReadDelay) {
        self.configuration = configuration
        self.readDelay = readDelay
        self.logger = logger
    }

    /// Whether creations are being held back now.
    public var holdsBack: Bool {
        state.withLock { isBehind($0, at: clock.now) }
    }

    /// Creations waiting in ``admit()`` now.
    var waitingCount: Int {
        state.withLock { $0.waiting }
    }

    /// Returns when a creation may go ahead: at once, when the fan-out caught up, or after ``Configuration/maxWait``.
    /// - Throws: `resource_exhausted/fan_out_behind` when ``Configuration/maxWaiting`` creations already wait;
    ///   `unavailable/cancelled` when the caller was cancelled while waiting.
    public func admit() async throws(WireError) {
        let now = clock.now
        let decision = state.withLock { state -> (behind: Bool, mayWait: Bool) in
            state.askedAt = now
            guard isBehind(state, at: now) else { return (false, false) }
            guard state.waiting < configuration.maxWaiting else { return (true, false) }
            state.waiting += 1
            return (true, true)
        }
        guard decision.behind else { return }
        guard decision.mayWait else { throw refusal() }
        held.increment()
        defer { state.withLock { $0.waiting -= 1 } }
        let deadline = now + configuration.maxWait
        while true {
            let remaining = deadline - clock.now
            guard remaining > .zero else { return }
            do {
                try await Task.sleep(for: min(configuration.pollInterval / 2, remaining))
            } catch {
                throw WireError(.unavailable, reason: "cancelled", "the creation was cancelled while held back")
            }
            if !holdsBack { return }
        }
    }

    /// Reads the delay every ``Configuration/pollInterval`` while creations ask to be admitted (or the last reading
    /// was behind), until shutdown.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: configuration.pollInterval)
            await readIfAsked()
        }
    }

    /// One reading, when a creation asked within the last second or the last reading was behind. A reading counts
    /// as taken when it was asked for, so that a slow answer does not look fresh.
    func readIfAsked() async {
        let asked = clock.now
        let wanted = state.withLock { state in
            state.behind || state.askedAt.map { asked - $0 < Self.askedWithin } == true
        }
        guard wanted else { return }
        do {
            let delay = try await readDelay()
            state.withLock { state in
                state.behind = delay > configuration.delayLimit
                state.readAt = asked
                state.failing = false
            }
        } catch {
            failedReads.increment()
            let first = state.withLock { state in
                defer { state.failing = true }
                state.behind = false
                state.readAt = nil
                return !state.failing
            }
            if first {
                logger.warning(
                    "cannot read the fan-out's delay; tweet creation is not held back until it can",
                    metadata: ["error": "\(error)"])
            }
        }
    }

    /// Behind by a reading fresh enough to trust.
    private func isBehind(_ state: State, at now: ContinuousClock.Instant) -> Bool {
        guard state.behind, let readAt = state.readAt else { return false }
        return now - readAt < configuration.pollInterval * 4
    }

    private func refusal() -> WireError {
        refused.increment()
        return WireError(
            .resourceExhausted, reason: "fan_out_behind",
            "timelines are behind and too many tweets wait for them; retry shortly")
    }
}
