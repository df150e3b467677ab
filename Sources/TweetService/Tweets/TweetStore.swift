import Wire

/// Tweets live on their author's shard, so an author's timeline is one index range on one shard and a tweet id
/// routes to its row with no lookup.
public struct TweetStore: Sendable {
    let database: ShardedDatabase
    /// Asked before each tweet is stored; nil lets every creation through.
    let backpressure: FanOutBackpressure?
    /// Creations on one shard at the same time are stored together.
    let creations: TweetCreationBatches

    public init(database: ShardedDatabase, backpressure: FanOutBackpressure? = nil) {
        self.database = database
        self.backpressure = backpressure
        self.creations = TweetCreationBatches(database: database)
    }

    /// Columns for ``TweetRecord`` from `tweets t JOIN users u`.
    private static let columns =
        "t.id, t.user_id, u.username, t.text, t.in_reply_to_id, (extract(epoch FROM t.created_at) * 1000)::bigint AS created_ms"

    private static func decode(_ row: PostgresRow) throws -> TweetRecord {
        TweetRecord(
            id: try row.int64("id"), userID: try row.int64("user_id"), username: try row.string("username"),
            text: try row.string("text"), createdAtMillis: try row.int64("created_ms"),
            inReplyToID: row.optionalInt64("in_reply_to_id")
        )
    }

    /// How long after a creation arrives it may still start storing its tweet (its group may start later than it
    /// arrived: ``TweetCreationBatches`` refuses it then). Storing takes at most the pool's
    /// wait (1 s) and one statement (1.5 s): 2.5 s, so a creation that starts storing within 0.9 s has committed
    /// or failed inside its caller's 5-second call deadline (Wire's default, the Gateway's), even after being held
    /// back by the fan-out (``FanOutBackpressure``) or slowed by the check of the tweet it replies to.
    public static let storeStartBudget: Duration = .milliseconds(900)

    /// Stores a tweet, its counter and its event, once the fan-out's ``backpressure`` lets it (a valid one: a bad
    /// request waits for nothing).
    /// - Parameter storeBy: when storing may start at the latest (default: ``storeStartBudget`` from now); past it
    ///   the creation is refused with `unavailable/too_late` and nothing is stored.
    public func create(_ request: NewTweet, storeBy: ContinuousClock.Instant? = nil) async throws -> TweetRecord {
        let storeBy = storeBy ?? ContinuousClock.now + Self.storeStartBudget
        try Validation.checkTweetText(request.text)
        guard let shard = database.shardMap.shard(ofID: request.authorID) else {
            throw WireError(.notFound, reason: "unknown_user", "no user \(request.authorID)")
        }
        try await backpressure?.admit()
        if let replyTo = request.inReplyToID, try await tweets([replyTo]).isEmpty {
            throw WireError(.invalidArgument, reason: "invalid_in_reply_to_id", "the tweet replied to does not exist")
        }
        // Stored with whatever else is being created on the shard: one statement for the tweet, its id, its author's
        // counter and its event (a reference the relay reads later), shared with the others of its group. The group
        // refuses it (`too_late`) if `storeBy` has passed when the group forms.
        let tweet = try await creations.create(request, onShard: shard, storeBy: storeBy)
        guard let tweet else {
            throw WireError(.notFound, reason: "unknown_user", "no user \(request.authorID)")
        }
        return tweet
    }

    /// The tweets with these ids, in the order asked; missing ones are left out. One round trip per server. Callers
    /// over Wire name at most ``TweetListBudget/maxIDsPerCall`` (``GetTweets/checkBounds(_:)``).
    public func tweets(_ ids: [Int64]) async throws -> [TweetRecord] {
        let rows = try await database.select(idsByShard: database.shardMap.group(ids)) { schema, ids in
            "SELECT \(Self.columns) FROM \(schema).tweets t JOIN \(schema).users u ON u.id = t.user_id WHERE t.id = ANY(\(ids))"
        } decode: {
            try Self.decode($0)
        }
        let found = Dictionary(rows.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { found[$0] }
    }

    /// Deletes a tweet of the requester's, with its counter and its event in one statement.
    public func delete(_ request: TweetDeletion) async throws {
        guard let shard = database.shardMap.shard(ofID: request.tweetID) else {
            throw WireError(.notFound, reason: "unknown_tweet", "no tweet \(request.tweetID)")
        }
        let parameters = [
            String(request.tweetID), String(request.requesterID),
            OutboxPayload.bytea(for: .tweetDeleted(tweetID: request.tweetID, authorID: request.requesterID)),
        ]
        let owner = try await database.withShard(shard) { connection, schema in
            try connection.query(
                """
                WITH target AS (SELECT user_id FROM \(schema).tweets WHERE id = $1),
                deleted AS (DELETE FROM \(schema).tweets WHERE id = $1 AND user_id = $2 RETURNING id),
                counted AS (UPDATE \(schema).users SET tweets_count = tweets_count - 1 WHERE id = $2 AND EXISTS (SELECT 1 FROM deleted)),
                event AS (INSERT INTO \(schema).outbox (payload) SELECT $3::bytea FROM deleted)
                SELECT (SELECT user_id FROM target) AS owner
                """,
                parameters
            )[0].optionalInt64("owner")
        }
        guard let owner else {
            throw WireError(.notFound, reason: "unknown_tweet", "no tweet \(request.tweetID)")
        }
        guard owner == request.requesterID else {
            throw WireError(.permissionDenied, reason: "not_owner", "only the author can delete a tweet")
        }
    }

    /// A user's tweets, newest first, inside the query's id window; one more row is read to know whether the page
    /// has a successor. The limit is bounded by ``ListUserTweets/checkBounds(_:)``.
    public func byUser(_ query: TimelineQuery) async throws -> TweetPage {
        guard let shard = database.shardMap.shard(ofID: query.userID) else {
            return TweetPage(tweets: [], nextMaxID: nil)
        }
        let parameters = [
            String(query.userID), query.maxID.map(String.init), query.sinceID.map(String.init), String(query.limit + 1),
        ]
        let rows = try await database.withShard(shard) { connection, schema in
            try connection.query(
                """
                SELECT \(Self.columns) FROM \(schema).tweets t JOIN \(schema).users u ON u.id = t.user_id
                WHERE t.user_id = $1 AND ($2::bigint IS NULL OR t.id < $2::bigint) AND ($3::bigint IS NULL OR t.id > $3::bigint)
                ORDER BY t.id DESC LIMIT $4::bigint
                """,
                parameters
            ).all.map(Self.decode)
        }
        return TweetPage(fitting: Array(rows.prefix(Int(query.limit))), hasMore: rows.count > Int(query.limit))
    }

    /// The newest tweets of several authors older than `maxID` (if given), merged newest first: one round trip per
    /// server. Cut to ``TweetListBudget/maxBytes``: a caller that wants more asks again below the last one. Authors
    /// and limit are bounded by ``ListRecentTweets/checkBounds(_:)``.
    ///
    /// Read from a caught-up replica when there is one. A home rebuild needs every tweet committed before it set its
    /// marker, and it asks after setting it: the replica has replayed the primary's position of the request's
    /// arrival, so it holds them all (docs/tweet-store.md, "Read replicas").
    public func recent(by authors: [Int64], limit: UInt32, maxID: Int64? = nil) async throws -> [TweetRecord] {
        let parameters = [String(limit), maxID.map(String.init)]
        let rows = try await database.select(
            idsByShard: database.shardMap.group(authors), sharedParameters: parameters, from: .caughtUpReplica
        ) {
            schema, authors in
            """
            SELECT \(Self.columns) FROM \(schema).tweets t JOIN \(schema).users u ON u.id = t.user_id
            WHERE t.user_id = ANY(\(authors)) AND ($2::bigint IS NULL OR t.id < $2::bigint) ORDER BY t.id DESC LIMIT $1::bigint
            """
        } decode: {
            try Self.decode($0)
        }
        let newest = Array(rows.sorted { $0.id > $1.id }.prefix(Int(limit)))
        return Array(newest.prefix(TweetListBudget.fittingCount(of: newest)))
    }
}
