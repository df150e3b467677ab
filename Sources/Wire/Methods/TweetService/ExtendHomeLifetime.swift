/// Marks every follow of a user as reaching a home timeline that may exist until an instant. The TimelineService
/// calls it before it keeps a home timeline alive that long (a rebuild, or a read that renews the home), so that the
/// fan-out, which asks only for the followers whose mark has not passed, never skips a home that exists.
///
/// A follow made after the call is marked ``newFollowLifetime`` ahead when it is made, which is at least as long as
/// any home may live; so a follow racing the call is covered either way. Marks are only ever raised (idempotent, and
/// correct in any order), and may be raised further than asked. See `docs/timelines.md` ("Idle followers").
public enum ExtendHomeLifetime: WireMethod {
    public static let id = WireMethodID(rawValue: 119), name = "extend_home_lifetime"
    public static let callers = WireCallers(.timelineService)
    public typealias Request = HomeLifetime
    public typealias Response = WireEmpty

    /// The longest a home timeline may live without a read; the TimelineService refuses a longer configuration.
    public static let maxHomeLifetime: Duration = .seconds(14 * 86_400)

    /// Added to every mark, for clocks of hosts that disagree (the TimelineService's, PostgreSQL's, Redis's).
    public static let clockMargin: Duration = .seconds(300)

    /// How far ahead a new follow is marked: ``maxHomeLifetime`` plus ``clockMargin`` (the schema's default for the
    /// column, `followers.home_until`).
    public static let newFollowLifetime: Duration = maxHomeLifetime + clockMargin

    /// Fixed size.
    public static func checkBounds(_ request: Request) {}
}

/// Whose follows to mark, and until when (Unix milliseconds, ``ExtendHomeLifetime/clockMargin`` included).
public struct HomeLifetime: WireMessage, Hashable {
    public var userID: Int64
    public var untilUnixMillis: Int64

    public init(userID: Int64, untilUnixMillis: Int64) {
        self.userID = userID
        self.untilUnixMillis = untilUnixMillis
    }

    public init(from reader: inout WireReader) throws(WireError) {
        userID = try reader.read()
        untilUnixMillis = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(userID)
        writer.write(untilUnixMillis)
    }
}
