extension ShardedDatabase {
    /// The most shards one statement of a server-wide scan names (``scan(server:parameters:limit:branch:decode:)``).
    ///
    /// A statement over all 512 shards of a server took 40 ms to plan on an idle server and 80 to 170 ms under load,
    /// and PostgreSQL plans it again whenever one of the tables it reads changes its statistics: the outbox sweep's
    /// plan was thrown away almost every second, because the relay vacuums the outbox of the shard that takes the
    /// writes. In groups, such a change costs the plan of that shard's group only.
    public static let shardsPerScanStatement = 32

    /// Reads every shard of one physical server on one connection: one prepared statement per group of the server's
    /// shards, each the `UNION ALL` of the group's `branch(shard, schema)` queries, run in shard order. A group is the
    /// server's shards among the same ``shardsPerScanStatement`` consecutive shard numbers, so moving a shard changes
    /// the text (and the plan) of its own group only.
    ///
    /// - Parameters:
    ///   - parameters: `$1`…`$n` of every branch.
    ///   - limit: the most rows returned; the groups after the one that reaches it are not read. Each group's
    ///     statement is limited to what is still missing (passed as `$n+1`).
    public func scan<Row: Sendable>(
        server: Int,
        parameters: [String?] = [],
        limit: Int? = nil,
        branch: @escaping @Sendable (_ shard: Int, _ schema: String) -> String,
        decode: @escaping @Sendable (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        try await onServer(server) { connection, shards in
            var rows: [Row] = []
            let groups = Dictionary(grouping: shards) { $0 / Self.shardsPerScanStatement }
            for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
                var sql = group.sorted().map { branch($0, ShardMap.schema(ofShard: $0)) }.joined(
                    separator: " UNION ALL ")
                var groupParameters = parameters
                if let limit {
                    guard rows.count < limit else { break }
                    sql += " LIMIT $\(parameters.count + 1)::bigint"
                    groupParameters.append(String(limit - rows.count))
                }
                rows += try connection.execute(PreparedStatement(sql: sql), groupParameters).all.map(decode)
            }
            return rows
        }
    }
}
