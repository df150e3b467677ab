/// A username and password: sign-up and sign-in.
public struct Credentials: WireMessage, Hashable {
    /// Decoding refuses longer fields (`too_long`); far above ``FieldRules``, which the service checks after.
    public static let maxUsernameBytes = 1024
    public static let maxPasswordBytes = 4096

    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public init(from reader: inout WireReader) throws(WireError) {
        username = try reader.read(String.self, maxBytes: Self.maxUsernameBytes)
        password = try reader.read(String.self, maxBytes: Self.maxPasswordBytes)
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(username)
        writer.write(password)
    }
}

/// A session token and the user it belongs to.
public struct Session: WireMessage, Hashable {
    public var token: String
    public var user: UserRecord

    public init(token: String, user: UserRecord) {
        self.token = token
        self.user = user
    }

    public init(from reader: inout WireReader) throws(WireError) {
        token = try reader.read(String.self, maxBytes: 256)
        user = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(token)
        writer.write(user)
    }
}

/// One string: a token or a username.
public struct Name: WireMessage, Hashable {
    /// Decoding refuses a longer value (`too_long`).
    public static let maxBytes = 1024

    public var value: String

    public init(_ value: String) {
        self.value = value
    }

    public init(from reader: inout WireReader) throws(WireError) {
        value = try reader.read(String.self, maxBytes: Self.maxBytes)
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(value)
    }
}

/// Who follows (or stops following) whom.
public struct FollowEdge: WireMessage, Hashable {
    public var followerID: Int64
    public var followeeID: Int64

    public init(followerID: Int64, followeeID: Int64) {
        self.followerID = followerID
        self.followeeID = followeeID
    }

    public init(from reader: inout WireReader) throws(WireError) {
        followerID = try reader.read()
        followeeID = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(followerID)
        writer.write(followeeID)
    }
}

/// Whether the follower follows the followee after the call.
public struct FollowState: WireMessage, Hashable {
    public var following: Bool

    public init(following: Bool) {
        self.following = following
    }

    public init(from reader: inout WireReader) throws(WireError) {
        following = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(following)
    }
}

/// A page of a user's relationships: `limit` entries older than `cursor` (exclusive), newest first.
public struct PageRequest: WireMessage, Hashable {
    public var userID: Int64
    public var limit: UInt32
    public var cursor: Int64?

    public init(userID: Int64, limit: UInt32, cursor: Int64? = nil) {
        self.userID = userID
        self.limit = limit
        self.cursor = cursor
    }

    public init(from reader: inout WireReader) throws(WireError) {
        userID = try reader.read()
        limit = try reader.read()
        cursor = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(Int64.self) }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(userID)
        writer.write(limit)
        writer.write(cursor) { writer, cursor in writer.write(cursor) }
    }
}

/// A new tweet.
public struct NewTweet: WireMessage, Hashable {
    public var authorID: Int64
    public var text: String
    public var inReplyToID: Int64?

    public init(authorID: Int64, text: String, inReplyToID: Int64? = nil) {
        self.authorID = authorID
        self.text = text
        self.inReplyToID = inReplyToID
    }

    public init(from reader: inout WireReader) throws(WireError) {
        authorID = try reader.read()
        text = try reader.read(String.self, maxBytes: TweetRecord.maxTextBytes)
        inReplyToID = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(Int64.self)
        }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(authorID)
        writer.write(text)
        writer.write(inReplyToID) { writer, id in writer.write(id) }
    }
}

/// A tweet to delete and who asks.
public struct TweetDeletion: WireMessage, Hashable {
    public var tweetID: Int64
    public var requesterID: Int64

    public init(tweetID: Int64, requesterID: Int64) {
        self.tweetID = tweetID
        self.requesterID = requesterID
    }

    public init(from reader: inout WireReader) throws(WireError) {
        tweetID = try reader.read()
        requesterID = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(tweetID)
        writer.write(requesterID)
    }
}

/// A window of a timeline: at most `limit` tweets with `sinceID < id < maxID`, newest first. With `sinceID` the
/// newest `limit` of the window come back.
public struct TimelineQuery: WireMessage, Hashable {
    /// The profile's or home timeline's owner; ignored for the public timeline.
    public var userID: Int64
    public var limit: UInt32
    public var maxID: Int64?
    public var sinceID: Int64?

    public init(userID: Int64 = 0, limit: UInt32, maxID: Int64? = nil, sinceID: Int64? = nil) {
        self.userID = userID
        self.limit = limit
        self.maxID = maxID
        self.sinceID = sinceID
    }

    public init(from reader: inout WireReader) throws(WireError) {
        userID = try reader.read()
        limit = try reader.read()
        maxID = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(Int64.self) }
        sinceID = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(Int64.self)
        }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(userID)
        writer.write(limit)
        writer.write(maxID) { writer, id in writer.write(id) }
        writer.write(sinceID) { writer, id in writer.write(id) }
    }
}

/// The newest tweets of several authors, merged: how a lost home timeline is rebuilt.
public struct RecentTweetsQuery: WireMessage, Hashable {
    public var authorIDs: [Int64]
    public var limit: UInt32
    /// Only tweets older than this (to continue after an answer that was cut to ``TweetListBudget/maxBytes``).
    public var maxID: Int64?

    public init(authorIDs: [Int64], limit: UInt32, maxID: Int64? = nil) {
        self.authorIDs = authorIDs
        self.limit = limit
        self.maxID = maxID
    }

    public init(from reader: inout WireReader) throws(WireError) {
        authorIDs = try reader.read([UInt64].self).map { Int64(bitPattern: $0) }
        limit = try reader.read()
        maxID = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(Int64.self) }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(authorIDs.map { UInt64(bitPattern: $0) })
        writer.write(limit)
        writer.write(maxID) { writer, id in writer.write(id) }
    }
}
