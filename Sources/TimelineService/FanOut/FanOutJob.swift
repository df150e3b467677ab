import Wire

/// One unit of queued timeline work: an event as delivered, or one chunk of a tweet's fan-out to followers.
struct FanOutJob: WireMessage, Hashable {
    enum Work: Hashable {
        case event(TimelineEvent)
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

    /// The created tweet, when the job is a tweet's creation event: such jobs can be applied together
    /// (``FanOutProcessor/create(_:)``).
    var createdTweet: FanOutProcessor.CreatedTweet? {
        guard case .event(let event) = work, case .tweetCreated(let tweet, let authorFollowers) = event.change else {
            return nil
        }
        return FanOutProcessor.CreatedTweet(tweet: tweet, authorFollowers: authorFollowers)
    }

    init(from reader: inout WireReader) throws(WireError) {
        switch try reader.read(UInt8.self) {
        case 1:
            work = .event(try reader.read(TimelineEvent.self))
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
        case let kind:
            throw WireError(.invalidArgument, reason: "unknown_job_kind", "unknown fan-out job kind \(kind)")
        }
    }

    func encode(to writer: inout WireWriter) {
        switch work {
        case .event(let event):
            writer.write(1 as UInt8)
            writer.write(event)
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
