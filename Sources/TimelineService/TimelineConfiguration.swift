import RedisCluster
import Wire

/// How long and how old timelines may grow, and how fan-out work is cut up.
public struct TimelineConfiguration: Sendable {
    /// Entries kept in each home timeline.
    public var homeCapacity: Int
    /// How far past ``homeCapacity`` (and ``profileCapacity``) fan-out lets a home (or profile) timeline grow before
    /// trimming it back: one trim per this many deliveries instead of one per delivery. Reads may page this much
    /// deeper than the capacity.
    public var homeTrimSlack: Int
    /// Entries kept in each profile timeline.
    public var profileCapacity: Int
    /// Entries kept in the public timeline.
    public var publicCapacity: Int
    /// Tweets older than this leave the public timeline.
    public var publicMaxAge: Duration
    /// Follower ids fetched and written per fan-out job: at most a page of `list_follower_ids`
    /// (``ListFollowerIDs/limitRange``).
    public var fanOutChunkSize: Int
    /// Pages of ``fanOutChunkSize`` followers one chunk job reads from the store in one call (one index scan), queuing
    /// the next chunk job before it writes them; as many as `list_follower_ids` gives in a call (50,000 ids) at most.
    public var fanOutReadPages: Int
    /// Fan-out workers of one instance; each takes up to 16 jobs a read.
    public var workers: Int
    /// Pages of followers one worker writes at once: of a chunk job's pages, and of the chunk jobs it took in one
    /// read, so that a large fan-out's writes keep the machine busy while the next chunk is read.
    public var pagesAtOnce: Int = 4
    /// A job a worker claimed but did not acknowledge for this long is taken over by another worker.
    public var reclaimAfter: Duration
    /// A reclaimed job delivered more often than this goes to the dead-letter stream instead of being worked again.
    /// With ``reclaimAfter`` it bounds how long a job is retried (20 × 10 s): longer than a Redis failover or a
    /// TweetService restart, so that only a job that cannot succeed is parked.
    public var maxDeliveries: Int
    /// Jobs the queue may hold; deliveries beyond it are refused with `resource_exhausted` and retried by the sender.
    public var maxQueueLength: Int
    /// How long a cached tweet lives in Redis.
    public var cacheTTL: Duration
    /// How long a home timeline lives after its rebuild or its last renewal by a read
    /// (``homeRenewalAge``). At most ``ExtendHomeLifetime/maxHomeLifetime``: the fan-out counts on follows being
    /// marked that far ahead.
    public private(set) var idleTimelineTTL: Duration
    /// A read renews its home timeline's lifetime (back to ``idleTimelineTTL``, the user's follows marked first) once
    /// this long has passed since it was last set: one renewal a day for a daily reader, not a write per read.
    public private(set) var homeRenewalAge: Duration
    /// How long the tombstone of a deleted tweet lives. Longer than ``cacheTTL``: the cache takes no tweet older than
    /// ``cacheTTL``, so no late or replayed create can outlive the tombstone that hides it.
    public var tombstoneTTL: Duration
    /// Tweets of a new followee copied into the follower's home timeline.
    public var followBackfill: Int
    /// Authors with at least this many followers are not fanned out on write; their tweets are merged into home
    /// timelines when those are read (the hybrid of large timeline services). `nil` fans out everyone.
    public var celebrityThreshold: Int64?
    /// How long a user's list of followed celebrities stays cached in Redis. A follow or unfollow drops it at once;
    /// the TTL bounds how long a followee who just became a celebrity is missing from the merge.
    public var followedCelebritiesTTL: Duration
    /// Users whose home timelines one instance rebuilds at once; reads that would start more are refused
    /// (`resource_exhausted`) rather than queued on the store. Concurrent reads of one user share one rebuild.
    public var maxConcurrentRebuilds: Int
    /// Replicas that must hold the queue's entries and the fan-out's writes before they are acknowledged (`WAIT`),
    /// so that a master's crash loses nothing that was acknowledged. `nil` for a Redis without replicas.
    public var replication: RedisReplication?
    /// Tweets each instance keeps in its own memory in front of the Redis cache (``LocalTweetCache``): a read whose
    /// tweets are all there makes no round trip for them. Deletes reach it through the ``DeletionLog``. 0 turns it off.
    public var localCacheCapacity: Int
    /// Whether `deliver_events` applies created tweets at once (``EventDelivery``) rather than queuing them for the
    /// workers as it queues every other event. Off, every event goes through the queue; an instance without
    /// ``workers`` queues them whatever this says, since it does no fan-out work of its own.
    public var applyCreationsOnDelivery: Bool

    public init(
        homeCapacity: Int = 800,
        homeTrimSlack: Int = 64,
        profileCapacity: Int = 800,
        publicCapacity: Int = 10_000,
        publicMaxAge: Duration = .seconds(30 * 86_400),
        fanOutChunkSize: Int = 5_000,
        fanOutReadPages: Int = 8,
        workers: Int = 4,
        reclaimAfter: Duration = .seconds(10),
        maxDeliveries: Int = 20,
        maxQueueLength: Int = 1_000_000,
        cacheTTL: Duration = .seconds(7 * 86_400),
        idleTimelineTTL: Duration = .seconds(14 * 86_400),
        homeRenewalAge: Duration = .seconds(86_400),
        tombstoneTTL: Duration = .seconds(30 * 86_400),
        followBackfill: Int = 50,
        celebrityThreshold: Int64? = 100_000,
        followedCelebritiesTTL: Duration = .seconds(60),
        maxConcurrentRebuilds: Int = 64,
        replication: RedisReplication? = RedisReplication(),
        localCacheCapacity: Int = 20_000,
        applyCreationsOnDelivery: Bool = true
    ) {
        self.homeCapacity = homeCapacity
        self.homeTrimSlack = homeTrimSlack
        self.profileCapacity = profileCapacity
        self.publicCapacity = publicCapacity
        self.publicMaxAge = publicMaxAge
        precondition(
            ListFollowerIDs.limitRange.contains(UInt32(clamping: fanOutChunkSize)),
            "fanOutChunkSize must be within list_follower_ids's \(ListFollowerIDs.limitRange)"
        )
        self.fanOutChunkSize = fanOutChunkSize
        precondition(fanOutReadPages >= 1, "fanOutReadPages must be at least 1")
        self.fanOutReadPages = fanOutReadPages
        self.workers = workers
        self.reclaimAfter = reclaimAfter
        self.maxDeliveries = maxDeliveries
        self.maxQueueLength = maxQueueLength
        self.cacheTTL = cacheTTL
        precondition(
            idleTimelineTTL <= ExtendHomeLifetime.maxHomeLifetime,
            "idleTimelineTTL must be at most extend_home_lifetime's \(ExtendHomeLifetime.maxHomeLifetime)")
        self.idleTimelineTTL = idleTimelineTTL
        precondition(homeRenewalAge < idleTimelineTTL, "homeRenewalAge must be shorter than idleTimelineTTL")
        self.homeRenewalAge = homeRenewalAge
        self.tombstoneTTL = max(tombstoneTTL, cacheTTL)
        self.followBackfill = followBackfill
        self.celebrityThreshold = celebrityThreshold
        self.followedCelebritiesTTL = followedCelebritiesTTL
        self.maxConcurrentRebuilds = maxConcurrentRebuilds
        self.replication = replication
        self.localCacheCapacity = localCacheCapacity
        self.applyCreationsOnDelivery = applyCreationsOnDelivery
    }
}

extension Duration {
    /// Whole seconds, at least 1 (for Redis TTLs).
    var redisSeconds: Int { max(1, Int(components.seconds)) }
}
