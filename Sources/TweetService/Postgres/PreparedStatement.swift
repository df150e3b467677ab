/// A statement each connection parses and plans once, under its name, and then runs by name with only its
/// parameters on the wire (``PostgresConnection/execute(_:_:)``).
///
/// Statements that name a shard's schema are one prepared statement per shard: the name carries the schema
/// (`create_tweet.shard_0042`), so a connection that serves many shards holds one plan for each it has used.
public struct PreparedStatement: Sendable, Hashable {
    /// Unique per SQL text on a connection: two statements with one name and different SQL would run the wrong plan.
    public let name: String
    /// Parameterised SQL (`$1`, `$2`, …), parameters in text format.
    public let sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// A statement named after its text (`sql_` and the FNV-1a 64 hash of it, in hex): for SQL that callers compose,
    /// where a chosen name could end up shared by two texts.
    public init(sql: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        self.init(name: "sql_" + String(hash, radix: 16), sql: sql)
    }
}
