/// Where a user's follower pages begin, read once so that a fan-out can queue every page at the same time instead of
/// reading each page to learn where the next begins: the edge ids at ranks `every`, 2 × `every`, … (newest edge
/// first) below `below`. Page k of the fan-out is the edges below bound k-1 down to bound k; the last page runs to
/// the end. Like ``ListFollowerIDs``, only the followers whose home timelines may exist now are counted.
public enum ListFollowerPageBounds: WireMethod {
    public static let id = WireMethodID(rawValue: 118), name = "list_follower_page_bounds"
    public static let callers = WireCallers(.timelineService)
    public typealias Request = FollowerPageBoundsQuery
    public typealias Response = IDList

    /// The most bounds one answer may hold (80 KiB); the caller asks again below the last for more.
    public static let maxBoundsRange: ClosedRange<UInt32> = 1...10_000

    public static func checkBounds(_ request: Request) throws(WireError) {
        try WireRequestBounds.check(limit: request.every, in: ListFollowerIDs.limitRange)
        try WireRequestBounds.check(limit: request.maxBounds, in: maxBoundsRange)
    }
}

/// Whose follower pages to bound, below which edge, every how many followers, and at most how many bounds.
public struct FollowerPageBoundsQuery: WireMessage, Hashable {
    public var userID: Int64
    /// Only edges older than this one (a page's cursor); every edge when nil.
    public var below: Int64?
    /// Followers per page.
    public var every: UInt32
    public var maxBounds: UInt32

    public init(userID: Int64, below: Int64?, every: UInt32, maxBounds: UInt32) {
        self.userID = userID
        self.below = below
        self.every = every
        self.maxBounds = maxBounds
    }

    public init(from reader: inout WireReader) throws(WireError) {
        userID = try reader.read()
        below = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.read(Int64.self) }
        every = try reader.read()
        maxBounds = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(userID)
        writer.write(below) { writer, below in writer.write(below) }
        writer.write(every)
        writer.write(maxBounds)
    }
}
