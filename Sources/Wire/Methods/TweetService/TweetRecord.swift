/// A tweet as the services exchange it, with its author's username so that readers need no second lookup.
public struct TweetRecord: WireMessage, Hashable {
    /// Decoding refuses a longer text (`too_long`): twice ``FieldRules/maxTweetBytes``, which the service checks after.
    public static let maxTextBytes = 16_384
    /// Decoding refuses a longer username (`too_long`).
    public static let maxUsernameBytes = 64

    public var id: Int64
    public var userID: Int64
    public var username: String
    public var text: String
    public var createdAtMillis: Int64
    public var inReplyToID: Int64?

    public init(id: Int64, userID: Int64, username: String, text: String, createdAtMillis: Int64, inReplyToID: Int64?) {
        self.id = id
        self.userID = userID
        self.username = username
        self.text = text
        self.createdAtMillis = createdAtMillis
        self.inReplyToID = inReplyToID
    }

    public init(from reader: inout WireReader) throws(WireError) {
        id = try reader.read()
        userID = try reader.read()
        username = try reader.read(String.self, maxBytes: Self.maxUsernameBytes)
        text = try reader.read(String.self, maxBytes: Self.maxTextBytes)
        createdAtMillis = try reader.read()
        inReplyToID = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(Int64.self)
        }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(id)
        writer.write(userID)
        writer.write(username)
        writer.write(text)
        writer.write(createdAtMillis)
        writer.write(inReplyToID) { writer, id in writer.write(id) }
    }

    /// The size of ``encode(to:)``'s bytes, counted without encoding (a page counts every tweet against its budget).
    public var payloadByteCount: Int {
        let integers = 3 * MemoryLayout<Int64>.size + (inReplyToID == nil ? 0 : MemoryLayout<Int64>.size)
        let lengthPrefixes = 2 * MemoryLayout<UInt32>.size
        let presenceByte = 1
        return integers + lengthPrefixes + presenceByte + username.utf8.count + text.utf8.count
    }

    public var estimatedPayloadByteCount: Int { payloadByteCount }

    /// The size of a list of `tweets` as ``WireWriter`` writes it: a count, then each tweet with its length prefix.
    static func listByteCount(_ tweets: [TweetRecord]) -> Int {
        tweets.reduce(MemoryLayout<UInt32>.size) { $0 + MemoryLayout<UInt32>.size + $1.payloadByteCount }
    }
}

/// A list of tweets, newest first.
public struct TweetList: WireMessage, Hashable {
    public var tweets: [TweetRecord]

    public init(tweets: [TweetRecord]) {
        self.tweets = tweets
    }

    public init(from reader: inout WireReader) throws(WireError) {
        tweets = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(tweets)
    }

    public var estimatedPayloadByteCount: Int { TweetRecord.listByteCount(tweets) }
}

/// A list of ids: a batch to look up, or a page of follower ids for fan-out.
public struct IDList: WireMessage, Hashable {
    public var ids: [Int64]
    public var nextCursor: Int64?

    public init(ids: [Int64], nextCursor: Int64? = nil) {
        self.ids = ids
        self.nextCursor = nextCursor
    }

    public init(from reader: inout WireReader) throws(WireError) {
        ids = try reader.read([UInt64].self).map { Int64(bitPattern: $0) }
        nextCursor = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(Int64.self)
        }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(ids.map { UInt64(bitPattern: $0) })
        writer.write(nextCursor) { writer, cursor in writer.write(cursor) }
    }
}

/// A page of a timeline, newest first, with the `max_id` that continues it (`nil` when nothing older is left inside
/// the window asked for).
public struct TweetPage: WireMessage, Hashable {
    public var tweets: [TweetRecord]
    public var nextMaxID: Int64?

    public init(tweets: [TweetRecord], nextMaxID: Int64?) {
        self.tweets = tweets
        self.nextMaxID = nextMaxID
    }

    public init(from reader: inout WireReader) throws(WireError) {
        tweets = try reader.read()
        nextMaxID = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(Int64.self)
        }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(tweets)
        writer.write(nextMaxID) { writer, id in writer.write(id) }
    }

    public var estimatedPayloadByteCount: Int { TweetRecord.listByteCount(tweets) + 1 + MemoryLayout<Int64>.size }
}
