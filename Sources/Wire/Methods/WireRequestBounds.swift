/// The checks every method's ``WireMethod/checkBounds(_:)`` is made of, so that each bound is refused the same way:
/// `invalid_argument` with one of the stable reasons below, before the handler runs (`docs/wire.md`, "Request
/// bounds").
///
/// Strings are bounded where they are decoded (`WireReader.read(_:maxBytes:)`, reason `too_long`), and whole frames by
/// the receiver's frame limit; these bound what a frame of legal size may still ask for: how many ids, events or rows.
public enum WireRequestBounds {
    /// A `limit` outside the method's range.
    public static let invalidLimit = "invalid_limit"
    /// More ids in one request than the method takes.
    public static let tooManyIDs = "too_many_ids"
    /// More events in one delivery than the method takes.
    public static let tooManyEvents = "too_many_events"

    /// The range of `limit` for methods that answer a page a user may ask for through the API.
    public static let pageLimit: ClosedRange<UInt32> = 1...200

    /// - Throws: `invalid_argument/invalid_limit` when `limit` is outside `range`.
    public static func check(limit: UInt32, in range: ClosedRange<UInt32>) throws(WireError) {
        guard range.contains(limit) else {
            throw WireError(
                .invalidArgument, reason: invalidLimit,
                "limit must be \(range.lowerBound) to \(range.upperBound), not \(limit)"
            )
        }
    }

    /// - Throws: `invalid_argument/<reason>` when `count` passes `max`.
    /// - Parameter what: the plural noun for the message, e.g. `ids`.
    public static func check(count: Int, max: Int, of what: String, reason: String) throws(WireError) {
        guard count <= max else {
            throw WireError(.invalidArgument, reason: reason, "at most \(max) \(what) per call, not \(count)")
        }
    }
}
