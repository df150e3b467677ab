import NIOCore
import Wire

/// How a change is stored in a shard's outbox, and how the relay reads it back.
///
/// Most changes are stored as the Wire encoding of a ``TimelineEvent`` whose id and shard the relay fills in from the
/// row. A tweet's creation is stored as a reference (`tweet_id`, with the author's username and follower count as
/// the creation found them): the relay's claim reads the tweet in the same statement, so the event carries the tweet
/// as it is when it is sent, and a tweet deleted before then is sent as nothing (its deletion is an event of its own,
/// further on in the same outbox).
enum OutboxPayload {
    /// What one claimed row holds.
    enum Content: Sendable, Equatable {
        /// A stored event, as `bytea` hex text (`\x…`).
        case encoded(byteaText: String)
        /// A created tweet, read when the row was claimed.
        case createdTweet(TweetRecord, authorFollowers: Int64)
        /// A reference to a tweet that no longer exists.
        case vanishedTweet

        /// About the size of the event it becomes, in bytes: what a delivery's byte bound counts.
        var eventByteCount: Int {
            switch self {
            case .encoded(let text): (text.utf8.count - 2) / 2
            case .createdTweet(let tweet, _): tweet.payloadByteCount + 32
            case .vanishedTweet: 0
            }
        }
    }

    /// The `bytea` text for a change, to pass as a statement parameter.
    static func bytea(for change: TimelineEvent.Change) -> String {
        let buffer = TimelineEvent(id: 0, shard: 0, change: change).payload()
        return Array(buffer.readableBytesView).byteaLiteral
    }

    /// The content of a row returned by ``OutboxStatements/claim(schema:)``.
    static func content(of row: PostgresRow) throws -> Content {
        guard let tweetID = row.optionalInt64("tweet_id") else {
            return .encoded(byteaText: try row.string("payload"))
        }
        guard let authorID = row.optionalInt64("user_id"), let text = row.optionalString("text") else {
            return .vanishedTweet
        }
        let username = try row.string("author_username")
        let followers = try row.int64("author_followers")
        let tweet = TweetRecord(
            id: tweetID, userID: authorID, username: username, text: text,
            createdAtMillis: TweeterID.unixMillis(of: tweetID), inReplyToID: row.optionalInt64("in_reply_to_id"))
        return .createdTweet(tweet, authorFollowers: followers)
    }

    /// The event a row holds, with the row's id and shard; nil for a tweet that no longer exists.
    static func event(rowID: Int64, shard: Int, content: Content) throws -> TimelineEvent? {
        switch content {
        case .encoded(let byteaText):
            guard byteaText.hasPrefix("\\x"), let bytes = [UInt8](hex: byteaText.dropFirst(2)) else {
                throw WireError(.internal, reason: "corrupt_outbox_row", "outbox row \(rowID) is not bytea hex")
            }
            var event = try TimelineEvent(payload: ByteBuffer(bytes: bytes))
            event.id = rowID
            event.shard = UInt16(shard)
            return event
        case .createdTweet(let tweet, let authorFollowers):
            return TimelineEvent(
                id: rowID, shard: UInt16(shard), change: .tweetCreated(tweet, authorFollowers: authorFollowers))
        case .vanishedTweet:
            return nil
        }
    }
}
