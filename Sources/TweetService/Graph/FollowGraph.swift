import Logging
import Wire

/// The follow graph, stored twice: `following` on the follower's shard and `followers` on the followee's, each with
/// its counter changed in the statement that changes its row.
///
/// The follower's side is the truth. The statement that changes it also queues a `follow_repairs` row and the
/// timeline event; then the followee's side is made to match the truth. If the process dies in between, the
/// ``FollowRepairer`` finds the queued row and finishes the job, so both sides always end up agreeing.
public struct FollowGraph: Sendable {
    let database: ShardedDatabase
    let users: UserDirectory

    public init(database: ShardedDatabase) {
        self.database = database
        self.users = UserDirectory(database: database)
    }

    /// Makes `edge.followerID` follow (or stop following) `edge.followeeID`; idempotent.
    public func set(_ edge: FollowEdge, following: Bool) async throws -> FollowState {
        guard edge.followerID != edge.followeeID else {
            throw WireError(.invalidArgument, reason: "self_follow", "users cannot follow themselves")
        }
        guard let followerShard = database.shardMap.shard(ofID: edge.followerID) else {
            throw WireError(.notFound, reason: "unknown_user", "no user \(edge.followerID)")
        }
        _ = try await users.user(edge.followeeID)
        try await changeFollowerSide(edge, following: following, shard: followerShard)
        try await syncFolloweeSide(edge)
        return FollowState(following: following)
    }

    /// The follower's side, its counter, the repair marker and the event, in one statement.
    func changeFollowerSide(_ edge: FollowEdge, following: Bool, shard: Int) async throws {
        let parameters = [
            String(edge.followerID), String(edge.followeeID),
            OutboxPayload.bytea(for: following ? .followed(edge) : .unfollowed(edge)),
        ]
        try await database.withShard(shard) { connection, schema in
            let change =
                following
                ? "INSERT INTO \(schema).following (follower_id, followee_id, edge_id) VALUES ($1, $2, \(schema).next_id()) ON CONFLICT DO NOTHING RETURNING 1"
                : "DELETE FROM \(schema).following WHERE follower_id = $1 AND followee_id = $2 RETURNING 1"
            try connection.query(
                """
                WITH changed AS (\(change)),
                counted AS (
                    UPDATE \(schema).users SET following_count = following_count + \(following ? 1 : -1)
                    WHERE id = $1 AND EXISTS (SELECT 1 FROM changed)
                ),
                queued AS (
                    INSERT INTO \(schema).follow_repairs (follower_id, followee_id)
                    SELECT $1, $2 FROM changed
                    ON CONFLICT (follower_id, followee_id) DO UPDATE SET queued_at = clock_timestamp()
                ),
                event AS (INSERT INTO \(schema).outbox (payload) SELECT $3::bytea FROM changed)
                SELECT count(*) FROM changed
                """,
                parameters
            )
        }
    }

    /// Makes the followee's side match the follower's side as it is now, then clears the repair marker if nothing
    /// changed it meanwhile. Idempotent, and order-independent: it copies state, not operations.
    ///
    /// Two copies can race (a follow's and the unfollow's that followed it), and the one that read the older truth
    /// may write last. So every copy is confirmed: after writing, the truth is read again, and if it is not what was
    /// copied, the new truth is copied. The last write of any racing copies is then always followed by a read that
    /// finds it current. After ``maxCopyRounds`` the marker stays for the ``FollowRepairer``.
    func syncFolloweeSide(_ edge: FollowEdge) async throws {
        guard let followerShard = database.shardMap.shard(ofID: edge.followerID),
            let followeeShard = database.shardMap.shard(ofID: edge.followeeID)
        else { return }
        var truth = try await followerSide(edge, shard: followerShard)
        for _ in 0..<Self.maxCopyRounds {
            try await copy(truth.edgeID, of: edge, toShard: followeeShard)
            let confirmed = try await followerSide(edge, shard: followerShard)
            guard confirmed.edgeID == truth.edgeID else {
                truth = confirmed
                continue
            }
            guard let queuedAt = confirmed.queuedAt else { return }
            let ids = [String(edge.followerID), String(edge.followeeID), queuedAt]
            try await database.withShard(followerShard) { connection, schema in
                try connection.query(
                    "DELETE FROM \(schema).follow_repairs WHERE follower_id = $1 AND followee_id = $2 AND queued_at = $3::timestamptz",
                    ids
                )
            }
            return
        }
    }

    /// Copies of the truth tried by one ``syncFolloweeSide(_:)`` before it leaves the edge to the repairer.
    static let maxCopyRounds = 8

    /// The truth of one edge: its id on the follower's side (`nil`: not following) and its repair marker.
    private func followerSide(_ edge: FollowEdge, shard: Int) async throws -> (edgeID: Int64?, queuedAt: String?) {
        let ids = [String(edge.followerID), String(edge.followeeID)]
        return try await database.withShard(shard) { connection, schema in
            let rows = try connection.query(
                """
                SELECT (SELECT edge_id FROM \(schema).following WHERE follower_id = $1 AND followee_id = $2) AS edge_id,
                       (SELECT queued_at::text FROM \(schema).follow_repairs WHERE follower_id = $1 AND followee_id = $2) AS queued_at
                """,
                ids
            )
            return (rows[0].optionalInt64("edge_id"), rows[0].optionalString("queued_at"))
        }
    }

    /// Makes the followee's `followers` row and counter say `edgeID` (present) or nothing (absent).
    ///
    /// A row left by an earlier follow of the same pair (its unfollow's delete never reached this shard) takes the new
    /// edge id and a new follow's home mark (`home_until`, raised only): an old mark would let the fan-out skip a
    /// follower whose home exists. Only a row inserted counts.
    private func copy(_ edgeID: Int64?, of edge: FollowEdge, toShard shard: Int) async throws {
        let ids = [String(edge.followerID), String(edge.followeeID)]
        try await database.withShard(shard) { connection, schema in
            let change =
                if let edgeID {
                    """
                    INSERT INTO \(schema).followers AS f (followee_id, follower_id, edge_id) VALUES ($2, $1, \(edgeID))
                    ON CONFLICT (followee_id, follower_id) DO UPDATE
                        SET edge_id = EXCLUDED.edge_id, home_until = greatest(f.home_until, EXCLUDED.home_until)
                        WHERE f.edge_id <> EXCLUDED.edge_id
                    RETURNING (xmax = 0) AS counted
                    """
                } else {
                    "DELETE FROM \(schema).followers WHERE followee_id = $2 AND follower_id = $1 RETURNING true AS counted"
                }
            try connection.query(
                """
                WITH changed AS (\(change))
                UPDATE \(schema).users SET followers_count = followers_count + \(edgeID == nil ? -1 : 1)
                WHERE id = $2 AND EXISTS (SELECT 1 FROM changed WHERE counted)
                """,
                ids
            )
        }
    }

    /// A page of relationships, newest first: `followers` of the user, or those the user is `following`. The limit
    /// is bounded by the method that asks (``ListFollowers/checkBounds(_:)``, ``ListFollowerIDs/checkBounds(_:)``).
    /// Read from a caught-up replica when there is one: it holds every edge committed before the request arrived.
    /// - Parameter withHomesOnly: only followers whose home timeline may exist now (``extendHomeLifetime(_:)``), for
    ///   the fan-out; only with `followers`.
    public func page(
        _ request: PageRequest, followers: Bool, withHomesOnly: Bool = false
    ) async throws -> (ids: [Int64], nextCursor: Int64?) {
        guard let shard = database.shardMap.shard(ofID: request.userID) else {
            throw WireError(.notFound, reason: "unknown_user", "no user \(request.userID)")
        }
        let (table, owner, other) =
            followers ? ("followers", "followee_id", "follower_id") : ("following", "follower_id", "followee_id")
        let homes = followers && withHomesOnly
        let parameters = [String(request.userID), request.cursor.map(String.init), String(request.limit + 1)]
        let rows = try await database.withShard(shard, from: .caughtUpReplica) { connection, schema in
            let statement = PreparedStatement(
                name: "\(homes ? "home_followers" : table)_page.\(schema)",
                sql: """
                    SELECT \(other) AS id, edge_id FROM \(schema).\(table)
                    WHERE \(owner) = $1::bigint AND ($2::bigint IS NULL OR edge_id < $2::bigint)\(homes ? Self.hasHome : "")
                    ORDER BY edge_id DESC LIMIT $3::bigint
                    """
            )
            return try connection.execute(statement, parameters).all.map {
                (try $0.int64("id"), try $0.int64("edge_id"))
            }
        }
        let page = rows.prefix(Int(request.limit))
        return (page.map(\.0), rows.count > page.count ? page.last?.1 : nil)
    }

    /// The first page of followers of each of `users` whose home timelines may exist now, newest first, in the order
    /// given (a user asked twice gets the same page twice): one statement per server, however many users and shards, on its caught-up replica when
    /// there is one. The limit is bounded by ``ListFirstFollowerPages/checkBounds(_:)``.
    public func firstFollowerPages(of users: [Int64], limit: UInt32) async throws -> [(
        ids: [Int64], nextCursor: Int64?
    )] {
        var idsByShard: [Int: [Int64]] = [:]
        for user in Set(users) {
            guard let shard = database.shardMap.shard(ofID: user) else {
                throw WireError(.notFound, reason: "unknown_user", "no user \(user)")
            }
            idsByShard[shard, default: []].append(user)
        }
        let rows = try await database.select(
            idsByShard: idsByShard, sharedParameters: [String(limit + 1)], from: .caughtUpReplica
        ) { schema, ids in
            """
            SELECT a.id AS owner, f.follower_id AS id, f.edge_id FROM unnest(\(ids)) AS a(id)
            CROSS JOIN LATERAL (
                SELECT follower_id, edge_id FROM \(schema).followers WHERE followee_id = a.id\(Self.hasHome)
                ORDER BY edge_id DESC LIMIT $1::bigint
            ) f
            """
        } decode: {
            (owner: try $0.int64("owner"), id: try $0.int64("id"), edge: try $0.int64("edge_id"))
        }
        let byOwner = Dictionary(grouping: rows, by: \.owner).mapValues { $0.sorted { $0.edge > $1.edge } }
        return users.map { user in
            let rows = byOwner[user, default: []]
            let page = rows.prefix(Int(limit))
            return (page.map(\.id), rows.count > page.count ? page.last?.edge : nil)
        }
    }

    /// The condition on a `followers` row that its follower's home timeline may exist now (the fan-out's pages).
    static let hasHome = " AND home_until > now()"

    /// Marks every follow of `lifetime.userID` as reaching a home timeline that may exist until
    /// `lifetime.untilUnixMillis` (``ExtendHomeLifetime``): the user's followees are read from their `following` rows
    /// (on the primary: every follow committed so far), then the `followers` rows are raised, one statement per server
    /// per ``extensionChunk`` followees. A follow committed after the read is marked ahead by the column's default.
    ///
    /// Marks only go up, and a row is written only when its mark falls short; it is then marked ``markAhead`` further
    /// than asked, so that a daily reader's renewals rewrite its follows every third or fourth day instead of daily (each
    /// write is a new row version and index entry). A follower marked ahead of its home is read by the fan-out and
    /// found without a home: a check, not a loss.
    public func extendHomeLifetime(_ lifetime: HomeLifetime) async throws {
        guard let shard = database.shardMap.shard(ofID: lifetime.userID) else {
            throw WireError(.notFound, reason: "unknown_user", "no user \(lifetime.userID)")
        }
        let user = String(lifetime.userID)
        let followees = try await database.withShard(shard) { connection, schema in
            let statement = PreparedStatement(
                name: "followee_ids.\(schema)",
                sql: "SELECT followee_id FROM \(schema).following WHERE follower_id = $1::bigint"
            )
            return try connection.execute(statement, [user]).all.map { try $0.int64("followee_id") }
        }
        let map = database.shardMap
        let shared = [user, String(lifetime.untilUnixMillis), String(Self.markAhead.milliseconds)]
        for start in stride(from: 0, to: followees.count, by: Self.extensionChunk) {
            let chunk = followees[start..<min(start + Self.extensionChunk, followees.count)]
            let placed = chunk.compactMap { id in map.shard(ofID: id).map { (shard: $0, id: id) } }
            let byShard = Dictionary(grouping: placed, by: \.shard).mapValues { $0.map(\.id) }
            _ = try await database.onServers(holding: byShard.keys) { connection, shards in
                // One data-modifying CTE per shard; each runs to completion though the query reads none of them.
                let raises = shards.enumerated().map { index, shard in
                    """
                    s\(index) AS (
                        UPDATE \(ShardMap.schema(ofShard: shard)).followers
                        SET home_until = to_timestamp(($2::bigint + $3::bigint) / 1000.0)
                        WHERE followee_id = ANY($\(index + 4)::bigint[]) AND follower_id = $1::bigint
                          AND home_until < to_timestamp($2::bigint / 1000.0)
                    )
                    """
                }
                let parameters = shared + shards.map { byShard[$0, default: []].postgresArray }
                try connection.query("WITH " + raises.joined(separator: ", ") + " SELECT 1", parameters)
            }
        }
    }

    /// How much further than asked a follow whose mark fell short is marked (``extendHomeLifetime(_:)``).
    public static let markAhead: Duration = .seconds(3 * 86_400)

    /// Followees whose marks one statement raises.
    static let extensionChunk = 5_000
}
