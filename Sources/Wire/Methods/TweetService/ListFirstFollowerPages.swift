/// The first page of follower ids of several users in one call, for a fan-out that took several created tweets at
/// once: one trip per PostgreSQL server instead of one call per author. Like ``ListFollowerIDs``, only the followers
/// whose home timelines may exist now.
public enum ListFirstFollowerPages: WireMethod {
    public static let id = WireMethodID(rawValue: 117), name = "list_first_follower_pages"
    public static let callers = WireCallers(.timelineService)
    public typealias Request = FollowerPagesQuery
    public typealias Response = IDLists

    /// The most users one call may name.
    public static let maxUserIDs = 100

    /// The most ids one answer may hold, all pages together: as many as one ``ListFollowerIDs`` page (400 KiB).
    public static let maxIDs = Int(ListFollowerIDs.limitRange.upperBound)

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(
            count: request.userIDs.count, max: maxUserIDs, of: "user ids", reason: WireRequestBounds.tooManyIDs)
        let perUser = UInt32(clamping: maxIDs / max(1, request.userIDs.count))
        try WireRequestBounds.check(limit: request.limit, in: 1...perUser)
    }
}

/// Whose followers to list, and how many of each.
public struct FollowerPagesQuery: WireMessage, Hashable {
    public var userIDs: [Int64]
    /// Ids per user; the next page of each is read with ``ListFollowerIDs`` from its cursor.
    public var limit: UInt32

    public init(userIDs: [Int64], limit: UInt32) {
        self.userIDs = userIDs
        self.limit = limit
    }

    public init(from reader: inout WireReader) throws(WireError) {
        userIDs = try reader.read([UInt64].self).map { Int64(bitPattern: $0) }
        limit = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(userIDs.map { UInt64(bitPattern: $0) })
        writer.write(limit)
    }
}

/// One list of ids per user asked about, in the order asked.
public struct IDLists: WireMessage, Hashable {
    public var lists: [IDList]

    public init(lists: [IDList]) {
        self.lists = lists
    }

    public init(from reader: inout WireReader) throws(WireError) {
        lists = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(lists)
    }
}
