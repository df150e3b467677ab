import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite("Tweets")
struct TweetRoutesTests {
    @Test func createReadAndDelete() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (aliceID, token) = try await api.signUp("alice")
                let created = try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":"  hello  "}"#)
                #expect(created.status == .created)
                let tweet = try created.jsonObject()
                expectTweetShape(tweet)
                #expect(tweet["text"] as? String == "  hello  ")
                #expect(tweet["user_id"] as? String == aliceID)
                #expect(tweet["username"] as? String == "alice")
                #expect(tweet["in_reply_to_id"] is NSNull)
                let id = try #require(tweet["id"] as? String)

                let read = try await api.call(.get, "/api/v1/tweets/\(id)")
                #expect(read.status == .ok)
                #expect(try read.jsonObject()["id"] as? String == id)

                let reply = try await api.call(
                    .post, "/api/v1/tweets", token: token, json: #"{"text":"re","in_reply_to_id":"\#(id)"}"#)
                #expect(try reply.jsonObject()["in_reply_to_id"] as? String == id)
                #expect(
                    try await api.call(
                        .post, "/api/v1/tweets", token: token, json: #"{"text":"x","in_reply_to_id":null}"#
                    ).status == .created)

                let deleted = try await api.call(.delete, "/api/v1/tweets/\(id)", token: token)
                #expect(deleted.status == .noContent)
                #expect(deleted.body.readableBytes == 0)
                expectError(try await api.call(.get, "/api/v1/tweets/\(id)"), .notFound, "not_found")
                expectError(try await api.call(.delete, "/api/v1/tweets/\(id)", token: token), .notFound, "not_found")
            }
        }
    }

    @Test func textIsOneTo280GraphemeClusters() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, token) = try await api.signUp("alice")
                // A family emoji is one Character of seven scalars: 280 of them are 280 characters.
                let family = "👨‍👩‍👧‍👦"
                let maximal = String(repeating: family, count: 280)
                #expect(
                    try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":"\#(maximal)"}"#).status
                        == .created)
                let over = String(repeating: "é", count: 281)
                expectError(
                    try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":"\#(over)"}"#),
                    .unprocessableContent, "invalid_text")
                expectError(
                    try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":""}"#),
                    .unprocessableContent, "invalid_text")
                // One character, but 9,001 bytes of combining marks: over the 8 KiB every text must fit in.
                let heavy = "e" + String(repeating: "\u{301}", count: 4_500)
                #expect(heavy.count == 1)
                expectError(
                    try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":"\#(heavy)"}"#),
                    .unprocessableContent, "invalid_text")
                #expect(
                    try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":" "}"#).status == .created
                )
            }
        }
    }

    @Test func tweetBodyErrors() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, token) = try await api.signUp("alice")
                let cases: [(String, HTTPResponse.Status, String)] = [
                    ("not json", .badRequest, "bad_request"),
                    (#""just a string""#, .badRequest, "bad_request"),
                    ("[]", .badRequest, "bad_request"),
                    (#"{"text":null}"#, .badRequest, "bad_request"),
                    (#"{"text":42}"#, .badRequest, "bad_request"),
                    (#"{"text":"hi","in_reply_to_id":12}"#, .badRequest, "bad_request"),
                    (#"{"in_reply_to_id":12}"#, .badRequest, "bad_request"),
                    (#"{}"#, .unprocessableContent, "invalid_text"),
                    (#"{"text":"hi","in_reply_to_id":"abc"}"#, .unprocessableContent, "invalid_in_reply_to_id"),
                    (#"{"text":"hi","in_reply_to_id":"-5"}"#, .unprocessableContent, "invalid_in_reply_to_id"),
                    (
                        #"{"text":"hi","in_reply_to_id":"99999999999999999999"}"#, .unprocessableContent,
                        "invalid_in_reply_to_id"
                    ),
                    (#"{"text":"hi","in_reply_to_id":"777777"}"#, .unprocessableContent, "invalid_in_reply_to_id"),
                ]
                for (body, status, code) in cases {
                    expectError(try await api.call(.post, "/api/v1/tweets", token: token, json: body), status, code)
                }
                expectError(
                    try await api.call(.post, "/api/v1/tweets", json: #"{"text":"hi"}"#), .unauthorized, "unauthorized")
            }
        }
    }

    @Test func aReplyToADeletedTweetIs422() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, token) = try await api.signUp("alice")
                let id = try await api.tweet("soon gone", token: token)
                _ = try await api.call(.delete, "/api/v1/tweets/\(id)", token: token)
                expectError(
                    try await api.call(
                        .post, "/api/v1/tweets", token: token, json: #"{"text":"re","in_reply_to_id":"\#(id)"}"#),
                    .unprocessableContent, "invalid_in_reply_to_id"
                )
            }
        }
    }

    @Test func onlyTheAuthorDeletes() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, aliceToken) = try await api.signUp("alice")
                let (_, bobToken) = try await api.signUp("bob")
                let id = try await api.tweet("mine", token: aliceToken)
                expectError(
                    try await api.call(.delete, "/api/v1/tweets/\(id)", token: bobToken), .forbidden, "forbidden")
                expectError(try await api.call(.delete, "/api/v1/tweets/\(id)"), .unauthorized, "unauthorized")
                expectError(try await api.call(.delete, "/api/v1/tweets/12x", token: bobToken), .notFound, "not_found")
                #expect(try await api.call(.get, "/api/v1/tweets/\(id)").status == .ok)
            }
        }
    }
}
