import Wire

/// One unit of queued timeline work: the events of one delivery, or one chunk of a tweet's fan-out to followers.
struct FanOutJob: WireMessage, Hashable {
    enum Work: Hashable {
        /// Events of one `deliver_events` call (in outbox order, up to ``maxEventsPerEntry``), queued as one entry: the
        /// queue's commands (add, read, acknowledge, delete) are paid once per entry, not once per event. A worker
        /// applies them as parts (``parts``), each done or dead-lettered on its own.
        case events([TimelineEvent])
        /// Add (or, for a deleted tweet, remove) `tweetID` in the home timelines of all the author's followers after
        /// `cursor`: the job reads where their pages begin, queues every page but the first as a
        /// ``followerRange(tweetID:authorID:cursor:until:remove:)`` and does the first itself, so that the pages of
        /// one fan-out run at once on every worker.
        case followerChunk(tweetID: Int64, authorID: Int64, cursor: Int64?, remove: Bool)
        /// The same for the followers after `cursor` down to the edge `until` (inclusive; `Int64.min`: to the end), a
        /// page read in one or, when follows were added inside the range since its bounds were read, more calls.
        case followerRange(tweetID: Int64, authorID: Int64, cursor: Int64?, until: Int64, remove: Bool)
    }

    var work: Work

    init(_ work: Work) {
        self.work = work
    }

    /// The most events in one ``Work/events(_:)`` entry; a larger delivery is queued as several. An entry is worked by
    /// one worker and retried or dead-lettered whole (see ``FanOutWorkers``), so this bounds what one failing part
    /// holds up, how many tweets are tried one by one when their creation together fails for good, and the events
    /// behind the queue's length bound (``TimelineConfiguration/maxQueueLength`` counts entries).
    static let maxEventsPerEntry = 64

    /// The entries that queue `events`, in order, each of at most ``maxEventsPerEntry``.
    static func entries(queuing events: [TimelineEvent]) -> [FanOutJob] {
        stride(from: 0, to: events.count, by: maxEventsPerEntry).map {
            FanOutJob(.events(Array(events[$0..<min($0 + maxEventsPerEntry, events.count)])))
        }
    }

    /// The job as the pieces a worker applies and accounts for one by one: each event of a delivery alone, any other
    /// job whole.
    var parts: [FanOutJob] {
        guard case .events(let events) = work, events.count != 1 else { return [self] }
        return events.map { FanOutJob(.events([$0])) }
    }

    /// Whether the job writes a page of an author's followers (a chunk or a range), not events.
    var isFollowerPage: Bool {
        if case .events = work { false } else { true }
    }

    /// The created tweet, when the job is one tweet's creation event: such jobs can be applied together
    /// (``FanOutProcessor/create(_:)``).
    var createdTweet: FanOutProcessor.CreatedTweet? {
        guard case .events(let events) = work, events.count == 1,
            case .tweetCreated(let tweet, let authorFollowers) = events[0].change
        else {
            return nil
        }
        return FanOutProcessor.CreatedTweet(tweet: tweet, authorFollowers: authorFollowers)
    }

    init(from reader: inout WireReader) throws(WireError) {
        switch try reader.read(UInt8.self) {
        // One event: how entries were queued before a delivery became one (such entries may wait through an upgrade).
        case 1:
            work = .events([try reader.read(TimelineEvent.self)])
        case 2:
            let tweetID: Int64 = try reader.read()
            let authorID: Int64 = try reader.read()
            let cursor = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
                try reader.read(Int64.self)
            }
            work = .followerChunk(tweetID: tweetID, authorID: authorID, cursor: cursor, remove: try reader.read())
        case 3:
            let tweetID: Int64 = try reader.read()
            let authorID: Int64 = try reader.read()
            let cursor = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
                try reader.read(Int64.self)
            }
            let until: Int64 = try reader.read()
            work = .followerRange(
                tweetID: tweetID, authorID: authorID, cursor: cursor, until: until, remove: try reader.read())
        case 4:
            work = .events(try reader.read([TimelineEvent].self))
        case let kind:
            throw WireError(.invalidArgument, reason: "unknown_job_kind", "unknown fan-out job kind \(kind)")
        }
    }

    func encode(to writer: inout WireWriter) {
        switch work {
        case .events(let events):
            writer.write(4 as UInt8)
            writer.write(events)
        case .followerChunk(let tweetID, let authorID, let cursor, let remove):
            writer.write(2 as UInt8)
            writer.write(tweetID)
            writer.write(authorID)
            writer.write(cursor) { writer, cursor in writer.write(cursor) }
            writer.write(remove)
        case .followerRange(let tweetID, let authorID, let cursor, let until, let remove):
            writer.write(3 as UInt8)
            writer.write(tweetID)
            writer.write(authorID)
            writer.write(cursor) { writer, cursor in writer.write(cursor) }
            writer.write(until)
            writer.write(remove)
        }
    }
}
