/// Redis key names for timelines, and their members (``TimelineMember``).
///
/// Per-user keys carry the user id as a hash tag, so a user's timeline and its marker share a slot and one pipeline.
enum TimelineKeys {
    static let publicTimeline = "tl:public"

    static func home(_ userID: Int64) -> String { homePrefix + "\(userID)}" }

    /// The state of `home(userID)`: ``homeIsBuilt`` once it is rebuilt from the store, ``homeIsBuilding`` from just
    /// before a rebuild reads the store; missing when the timeline must be rebuilt (new, idle, or lost by Redis).
    /// Fan-out writes only timelines that have this key: a timeline without it is rebuilt on its next read, and
    /// one being rebuilt already has it, so a tweet committed after the rebuild read the store is still delivered.
    static func homeBuilt(_ userID: Int64) -> String { homeBuiltPrefix + "\(userID)}" }

    /// The value of ``homeBuilt(_:)`` for a complete timeline.
    static let homeIsBuilt = "1"
    /// The value of ``homeBuilt(_:)`` while a rebuild runs; reads still rebuild.
    static let homeIsBuilding = "0"

    /// The keys ``home(_:)``, ``homeBuilt(_:)`` and ``profile(_:)`` without the user id and the closing brace (for
    /// scripts that make them from ids).
    static let homePrefix = "tl:h:{"
    static let homeBuiltPrefix = "tl:hb:{"
    static let profilePrefix = "tl:p:{"

    static func profile(_ userID: Int64) -> String { profilePrefix + "\(userID)}" }

    /// Authors whose tweets are merged into home timelines at read time instead of fanned out.
    static let celebrities = "tl:celebrities"

    /// The celebrities a user follows, cached as concatenated members (empty when none), beside their home timeline.
    static func followedCelebrities(_ userID: Int64) -> String { "tl:fc:{\(userID)}" }

    /// The cached tweet, or an empty tombstone for a deleted one.
    static func tweet(_ tweetID: Int64) -> String { "tw:{\(tweetID)}" }

    /// The member for a tweet id (``TimelineMember``).
    static func member(_ id: Int64) -> [UInt8] { TimelineMember.encode(id) }

    /// The id in a member; `nil` for anything that is not 8 bytes.
    static func id(fromMember bytes: [UInt8]) -> Int64? { TimelineMember.decode(bytes) }

    /// The ids in concatenated members (``followedCelebrities(_:)``).
    static func ids(fromMembers bytes: [UInt8]) -> [Int64] {
        stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).compactMap {
            id(fromMember: Array(bytes[$0..<$0 + 8]))
        }
    }

    /// An exclusive lex bound: the members of ids older (as a minimum) or newer (as a maximum) than `id`.
    static func exclusiveBound(_ id: Int64) -> [UInt8] {
        [UInt8(ascii: "(")] + member(id)
    }
}
