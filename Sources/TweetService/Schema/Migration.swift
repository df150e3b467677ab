import Wire

/// One version of the per-shard schema. `{schema}` and `{shard}` in the SQL are replaced with the shard's schema
/// name and number; both come from integers, never from input.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    /// Every migration, oldest first. Versions are never edited once released; changes come as new versions.
    public static let all: [Migration] = [
        .initialSchema, .outboxDeadLetters, .sessionExpiry, .homeLifetime, .outboxTweetReferences, .outboxFillFactor,
        .tweetAuthorCheck,
    ]

    func sql(forShard shard: Int) -> String {
        sql.replacingOccurrences(of: "{schema}", with: ShardMap.schema(ofShard: shard))
            .replacingOccurrences(of: "{shard}", with: String(shard))
            .replacingOccurrences(of: "{epoch}", with: String(TweeterID.epochMillis))
    }
}
