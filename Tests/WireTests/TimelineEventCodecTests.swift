import NIOCore
import Testing

@testable import Wire

/// Tweet-creation events carry the author's follower count (kind 5); events written into outboxes and queues before
/// that (kind 1) still decode, with the count unknown.
struct TimelineEventCodecTests {
    private let tweet = TweetRecord(
        id: 1 << 40, userID: 1 << 30, username: "ada", text: "hello", createdAtMillis: 1_700_000_000_000,
        inReplyToID: nil)

    /// The byte after the event's id (8 bytes) and shard (2 bytes): its kind.
    private func kind(of event: TimelineEvent) -> UInt8? {
        event.payload().getInteger(at: 10, as: UInt8.self)
    }

    @Test func aCreationWithItsAuthorsFollowerCountRoundTrips() throws {
        let event = TimelineEvent(id: 7, shard: 3, change: .tweetCreated(tweet, authorFollowers: 499))
        #expect(kind(of: event) == 5)
        #expect(try TimelineEvent(payload: event.payload()) == event)
    }

    @Test func aCreationWrittenBeforeTheCountWasCarriedDecodesWithTheCountUnknown() throws {
        // Kind 1 is the tweet alone, as outbox rows and queued jobs written by the previous release hold it.
        var writer = WireWriter()
        writer.write(7 as Int64)
        writer.write(3 as UInt16)
        writer.write(1 as UInt8)
        writer.write(tweet)
        let decoded = try TimelineEvent(payload: writer.buffer)
        #expect(decoded.change == .tweetCreated(tweet, authorFollowers: nil))
        #expect(kind(of: decoded) == 1, "an unknown count is written as before")
    }
}
