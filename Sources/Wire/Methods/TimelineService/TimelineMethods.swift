// The TimelineService's read methods (ids 201-209; 203, read_profile_timeline, is retired: profiles are read from
// the store, and the materialized profile timelines serve home rebuilds). Limits are `WireRequestBounds.pageLimit` (1...200);
// `invalid_argument/invalid_limit` otherwise.

/// Everyone's tweets, newest first, trimmed by age.
public enum ReadPublicTimeline: WireMethod {
    public static let id = WireMethodID(rawValue: 201), name = "read_public_timeline"
    public static let callers = WireCallers(.gateway)
    public typealias Request = TimelineQuery
    public typealias Response = TweetPage

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.limit, in: WireRequestBounds.pageLimit)
    }
}

/// The tweets of the people `userID` follows, and their own, newest first.
public enum ReadHomeTimeline: WireMethod {
    public static let id = WireMethodID(rawValue: 202), name = "read_home_timeline"
    public static let callers = WireCallers(.gateway)
    public typealias Request = TimelineQuery
    public typealias Response = TweetPage

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.limit, in: WireRequestBounds.pageLimit)
    }
}

/// The fan-out queue's depth and lag.
public enum ReadQueueStats: WireMethod {
    public static let id = WireMethodID(rawValue: 204), name = "read_queue_stats"
    public static let callers = WireCallers(.operator)
    public typealias Request = WireEmpty

    public static func checkBounds(_ request: Request) {}

    public struct Response: WireMessage, Hashable {
        /// Jobs in the queue not yet handed to a worker.
        public var waiting: Int64
        /// Jobs handed to a worker and not yet acknowledged.
        public var pending: Int64
        /// Age of the oldest unacknowledged job, in milliseconds (0 when idle).
        public var lagMillis: Int64

        public init(waiting: Int64, pending: Int64, lagMillis: Int64) {
            self.waiting = waiting
            self.pending = pending
            self.lagMillis = lagMillis
        }

        public init(from reader: inout WireReader) throws(WireError) {
            waiting = try reader.read()
            pending = try reader.read()
            lagMillis = try reader.read()
        }

        public func encode(to writer: inout WireWriter) {
            writer.write(waiting)
            writer.write(pending)
            writer.write(lagMillis)
        }
    }
}

/// How far the fan-out is behind: how long the oldest job no worker has taken yet has waited. The TweetService asks
/// it to hold tweet creation back while followers' timelines fall behind (see docs/timelines.md, "Backpressure").
public enum ReadFanOutDelay: WireMethod {
    public static let id = WireMethodID(rawValue: 205), name = "read_fan_out_delay"
    public static let callers = WireCallers(.tweetService, .operator)
    public typealias Request = WireEmpty

    public static func checkBounds(_ request: Request) {}

    public struct Response: WireMessage, Hashable {
        /// Jobs in the queue no worker has taken yet.
        public var waiting: Int64
        /// How long the oldest of them has waited, in milliseconds (0 when none waits).
        public var oldestWaitMillis: Int64

        public init(waiting: Int64, oldestWaitMillis: Int64) {
            self.waiting = waiting
            self.oldestWaitMillis = oldestWaitMillis
        }

        public init(from reader: inout WireReader) throws(WireError) {
            waiting = try reader.read()
            oldestWaitMillis = try reader.read()
        }

        public func encode(to writer: inout WireWriter) {
            writer.write(waiting)
            writer.write(oldestWaitMillis)
        }
    }
}
