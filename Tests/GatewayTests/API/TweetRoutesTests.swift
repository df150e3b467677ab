import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The tweet routes; writing a tweet both through Hummingbird's route table and over a socket, where it is answered
/// below Hummingbird (``InlineRoute``): the answers must be the same.
@Suite("Tweets")
struct TweetRoutesTests {
    @Test(arguments: ClientPath.allCases) func createReadAndDelete(path: ClientPath) async throws {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
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

    @Test(arguments: ClientPath.allCases) func textIsOneTo280GraphemeClusters(path: ClientPath) async throws {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
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

    @Test(arguments: ClientPath.allCases) func tweetBodyErrors(path: ClientPath) async throws {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
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

    @Test(arguments: ClientPath.allCases) func aReplyToADeletedTweetIs422(path: ClientPath) async throws {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
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

    @Test(arguments: ClientPath.allCases) func aTweetsAnswersCarryTheAPIsHeadersLimitsAndMetrics(
        path: ClientPath
    ) async throws {
        // One token per 100 s: however slow a loaded machine runs this test, nothing refills in between.
        let slowRate: (inout GatewayConfiguration) -> Void = {
            $0.rateLimit = RateLimiter.Configuration(requestsPerSecond: 0.01, burst: 6)
        }
        try await GatewayHarness.with(configure: slowRate) { harness in
            try await harness.withClient(path) { client in
                let api = APIClient(client: client)
                let (_, token) = try await api.signUp("alice")
                let created = try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":"hi"}"#)
                #expect(created.status == .created)
                #expect(created.headers[.contentType] == "application/json")
                #expect(created.headers[.cacheControl] == "no-store", "an authenticated answer is never cached")
                #expect(created.headers[GatewayResponder.requestIDField]?.count == 32)
                #expect(created.headers[SecurityHeaders.contentTypeOptions] == "nosniff")
                #expect(created.headers[SecurityHeaders.strictTransportSecurity] == SecurityHeaders.hstsValue)

                let anonymous = try await api.call(.post, "/api/v1/tweets", json: #"{"text":"hi"}"#)
                expectError(anonymous, .unauthorized, "unauthorized")
                #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
                let unknown = try await api.call(.post, "/api/v1/tweets", token: "nobody", json: #"{"text":"hi"}"#)
                expectError(unknown, .unauthorized, "unauthorized")
                var twice = HTTPFields()
                twice.append(HTTPFields.Element(name: .authorization, value: "Bearer \(token)"))
                twice.append(HTTPFields.Element(name: .authorization, value: "Bearer \(token)"))
                let ambiguous = try await api.call(.post, "/api/v1/tweets", json: #"{"text":"hi"}"#, headers: twice)
                expectError(ambiguous, .unauthorized, "unauthorized")

                var limited: TestResponse?
                for _ in 0..<7 where limited == nil {
                    let answer = try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":"x"}"#)
                    if answer.status == .tooManyRequests {
                        limited = answer
                    }
                }
                let refused = try #require(limited, "the token's bucket of 6 runs out")
                expectError(refused, .tooManyRequests, "rate_limited")
                #expect((90...100).contains(Int(refused.headers[.retryAfter] ?? "") ?? 0))
            }
            let exposition = String(decoding: harness.metrics.exposition(), as: UTF8.self)
            #expect(exposition.contains(#"route="/api/v1/tweets",method="POST",status="201""#), "\(exposition)")
            #expect(exposition.contains(#"route="/api/v1/tweets",method="POST",status="429""#))
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
