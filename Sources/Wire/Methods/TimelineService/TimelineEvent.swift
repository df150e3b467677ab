/// A change in the tweet store that the timelines must reflect. Events are delivered at least once and carry what
/// the consumer needs to apply them idempotently.
public struct TimelineEvent: WireMessage, Hashable {
    public enum Change: Hashable, Sendable {
        /// A new tweet, with its author's follower count when the tweet was made (`nil` in events written before the
        /// count was carried): the consumer tells a celebrity's tweet from anyone else's without asking the store.
        case tweetCreated(TweetRecord, authorFollowers: Int64?)
        case tweetDeleted(tweetID: Int64, authorID: Int64)
        case followed(FollowEdge)
        case unfollowed(FollowEdge)
    }

    /// Unique per event: the outbox row id with its shard, for logs and de-duplication.
    public var id: Int64
    public var shard: UInt16
    public var change: Change

    public init(id: Int64, shard: UInt16, change: Change) {
        self.id = id
        self.shard = shard
        self.change = change
    }

    public init(from reader: inout WireReader) throws(WireError) {
        id = try reader.read()
        shard = try reader.read()
        switch try reader.read(UInt8.self) {
        case 1: change = .tweetCreated(try reader.read(TweetRecord.self), authorFollowers: nil)
        case 2: change = .tweetDeleted(tweetID: try reader.read(), authorID: try reader.read())
        case 3: change = .followed(try reader.read(FollowEdge.self))
        case 4: change = .unfollowed(try reader.read(FollowEdge.self))
        case 5: change = .tweetCreated(try reader.read(TweetRecord.self), authorFollowers: try reader.read())
        case let kind:
            throw WireError(.invalidArgument, reason: "unknown_event_kind", "unknown timeline event kind \(kind)")
        }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(id)
        writer.write(shard)
        switch change {
        case .tweetCreated(let tweet, authorFollowers: nil):
            writer.write(1 as UInt8)
            writer.write(tweet)
        case .tweetCreated(let tweet, authorFollowers: let count?):
            writer.write(5 as UInt8)
            writer.write(tweet)
            writer.write(count)
        case .tweetDeleted(let tweetID, let authorID):
            writer.write(2 as UInt8)
            writer.write(tweetID)
            writer.write(authorID)
        case .followed(let edge):
            writer.write(3 as UInt8)
            writer.write(edge)
        case .unfollowed(let edge):
            writer.write(4 as UInt8)
            writer.write(edge)
        }
    }
}

/// Events in outbox order.
public struct TimelineEventBatch: WireMessage, Hashable {
    public var events: [TimelineEvent]

    public init(events: [TimelineEvent]) {
        self.events = events
    }

    public init(from reader: inout WireReader) throws(WireError) {
        events = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(events)
    }
}

/// The TweetService's outbox relay hands events to the TimelineService. Success means the events are durably
/// queued there; until then the relay keeps them and sends again.
public enum DeliverEvents: WireMethod {
    public static let id = WireMethodID(rawValue: 200), name = "deliver_events"
    public static let callers = WireCallers(.tweetService)
    public typealias Request = TimelineEventBatch
    public typealias Response = WireEmpty

    /// The most events one delivery may carry (each becomes a queued job); the relay's batches stay below it.
    public static let maxEvents = 1_000

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(
            count: request.events.count, max: maxEvents, of: "events", reason: WireRequestBounds.tooManyEvents
        )
    }
}
