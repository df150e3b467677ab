import Foundation
import Hummingbird
import Testing
import Wire

@testable import Gateway

@Suite("JSON shapes, timestamps and error mapping")
struct RepresentationTests {
    private func json(_ value: some JSONRepresentable) -> String {
        String(buffer: value.jsonBuffer)
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(RFC3339.string(fromUnixMillis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.string(fromUnixMillis: 1_795_881_768_123) == "2026-11-28T16:02:48.123Z")
        #expect(RFC3339.string(fromUnixMillis: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(RFC3339.string(fromUnixMillis: -1) == "1969-12-31T23:59:59.999Z")
        #expect(RFC3339.string(fromUnixMillis: 253_402_300_799_999) == "9999-12-31T23:59:59.999Z")
    }

    @Test func usersAndTweetsUseStringIDsAndExplicitNulls() throws {
        let user = UserRecord(
            id: 9_007_199_254_740_993, username: "alice", createdAtMillis: 0, followersCount: 2, followingCount: 3,
            tweetsCount: 4)
        #expect(
            json(UserJSON(user))
                == #"{"id":"9007199254740993","username":"alice","created_at":"1970-01-01T00:00:00.000Z","followers_count":2,"following_count":3,"tweets_count":4}"#
        )
        let tweet = TweetRecord(
            id: 5, userID: 9, username: "alice", text: "a/b \"q\"", createdAtMillis: 0, inReplyToID: nil)
        let encoded = json(TweetJSON(tweet))
        #expect(encoded.contains(#""in_reply_to_id":null"#))
        #expect(encoded.contains(#""text":"a/b \"q\"""#))
        #expect(
            json(TweetPageJSON(page: TweetPage(tweets: [], nextMaxID: nil))) == #"{"tweets":[],"next_max_id":null}"#)
        #expect(json(UserPageJSON(page: UserPage(users: [], nextCursor: 77))) == #"{"users":[],"next_cursor":"77"}"#)
    }

    @Test func integersAndIDsAreWrittenAsTheirDecimals() {
        var writer = JSONWriter()
        writer.array([Int64.min, -1, 0, 7, 1_234_567_890, Int64.max]) { json, value in json.int(value) }
        #expect(
            String(buffer: writer.buffer)
                == "[-9223372036854775808,-1,0,7,1234567890,9223372036854775807]")
        var ids = JSONWriter()
        ids.array([Int64.max, 0, nil] as [Int64?]) { json, value in json.optionalDecimalString(value) }
        #expect(String(buffer: ids.buffer) == #"["9223372036854775807","0",null]"#)
    }

    @Test func stringsAreEscapedAsRFC8259Asks() {
        #expect(
            json(StatusJSON(status: "a\"b\\c\n\r\t\u{1}\u{1F} é😀/")) == #"{"status":"a\"b\\c\n\r\t\u0001\u001f é😀/"}"#)
        #expect(json(ErrorJSON(code: "x", message: "")) == #"{"error":{"code":"x","message":""}}"#)
    }

    @Test func wireErrorsMapToTheAPIsCodes() {
        let cases: [(WireError, Int, String)] = [
            (WireError(.notFound, reason: "unknown_user", "x"), 404, "not_found"),
            (WireError(.invalidArgument, reason: "self_follow", "x"), 422, "self_follow"),
            (WireError(.invalidArgument, reason: "too_long", "string of 20000 bytes exceeds 16384"), 500, "internal"),
            (WireError(.invalidArgument, reason: "unknown_method", "no method 107"), 500, "internal"),
            (WireError(.unauthenticated, reason: "invalid_token", "x"), 401, "unauthorized"),
            (WireError(.permissionDenied, reason: "not_owner", "x"), 403, "forbidden"),
            (WireError(.alreadyExists, reason: "username_taken", "x"), 409, "username_taken"),
            (WireError(.unavailable, "connection refused to 10.0.0.1"), 503, "unavailable"),
            (WireError(.deadlineExceeded, "x"), 503, "unavailable"),
            (WireError(.resourceExhausted, "x"), 503, "unavailable"),
            (WireError(.internal, "SELECT * FROM secrets"), 500, "internal"),
            (WireError(WireError.Code(rawValue: 99), "x"), 500, "internal"),
        ]
        for (wire, status, code) in cases {
            let error = APIError(wire)
            #expect(error.status.code == status, "\(wire)")
            #expect(error.code == code, "\(wire)")
        }
        #expect(APIError(WireError(.internal, "SELECT * FROM secrets")).message == "internal error")
        #expect(
            APIError(WireError(.invalidArgument, reason: "truncated", "payload ended at byte 7")).message
                == "internal error")
        #expect(
            APIError(WireError(.unavailable, "connection refused to 10.0.0.1")).message.contains("10.0.0.1") == false)
    }

    @Test func errorResponsesCarryTheirHeaders() {
        let limited = APIError.rateLimited(retryAfterSeconds: 3).response()
        #expect(limited.status == .tooManyRequests)
        #expect(limited.headers[.retryAfter] == "3")
        let wrongMethod = APIError.methodNotAllowed(allowed: [.get, .delete]).response()
        #expect(wrongMethod.headers[.allow] == "GET, DELETE")
        #expect(APIError.unauthorized().response().headers[.wwwAuthenticate] == "Bearer")
        // The TweetService's full password-hashing queue: 503 with Retry-After, at once.
        let busy = APIError(WireError(.resourceExhausted, reason: "hashing_busy", "too many password checks"))
            .response()
        #expect(busy.status == .serviceUnavailable)
        #expect(busy.headers[.retryAfter] == "1")
    }
}
