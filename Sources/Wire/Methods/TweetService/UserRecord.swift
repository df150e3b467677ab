/// A user as the services exchange it: identity and the denormalised counters.
public struct UserRecord: WireMessage, Hashable {
    public var id: Int64
    public var username: String
    public var createdAtMillis: Int64
    public var followersCount: Int64
    public var followingCount: Int64
    public var tweetsCount: Int64

    public init(
        id: Int64, username: String, createdAtMillis: Int64, followersCount: Int64 = 0, followingCount: Int64 = 0,
        tweetsCount: Int64 = 0
    ) {
        self.id = id
        self.username = username
        self.createdAtMillis = createdAtMillis
        self.followersCount = followersCount
        self.followingCount = followingCount
        self.tweetsCount = tweetsCount
    }

    public init(from reader: inout WireReader) throws(WireError) {
        id = try reader.read()
        username = try reader.read(String.self, maxBytes: 64)
        createdAtMillis = try reader.read()
        followersCount = try reader.read()
        followingCount = try reader.read()
        tweetsCount = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(id)
        writer.write(username)
        writer.write(createdAtMillis)
        writer.write(followersCount)
        writer.write(followingCount)
        writer.write(tweetsCount)
    }
}

/// A list of users, with the cursor for the next page when there is one.
public struct UserPage: WireMessage, Hashable {
    public var users: [UserRecord]
    public var nextCursor: Int64?

    public init(users: [UserRecord], nextCursor: Int64?) {
        self.users = users
        self.nextCursor = nextCursor
    }

    public init(from reader: inout WireReader) throws(WireError) {
        users = try reader.read()
        nextCursor = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(Int64.self)
        }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(users)
        writer.write(nextCursor) { writer, cursor in writer.write(cursor) }
    }
}
