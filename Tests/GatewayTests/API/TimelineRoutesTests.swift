import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite("Timelines")
struct TimelineRoutesTests {
    /// Follows `next_max_id` from the first page to the last and returns every id seen, in order.
    private func pageThrough(_ api: APIClient, _ uri: String, token: String? = nil) async throws -> [String] {
        var ids: [String] = []
        var maxID: String?
        repeat {
            let separator = uri.contains("?") ? "&" : "?"
            let response = try await api.call(
                .get, uri + (maxID.map { "\(separator)max_id=\($0)" } ?? ""), token: token)
            #expect(response.status == .ok)
            let page = try response.jsonObject()
            #expect(Set(page.keys) == ["tweets", "next_max_id"])
            let tweets = try response.tweets()
            tweets.forEach { expectTweetShape($0) }
            ids += tweets.compactMap { $0["id"] as? String }
            maxID = page["next_max_id"] as? String
            #expect(maxID != nil || page["next_max_id"] is NSNull)
        } while maxID != nil
        return ids
    }

    @Test func pagingNeverRepeatsOrSkips() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (aliceID, token) = try await api.signUp("alice")
                var posted: [String] = []
                for index in 0..<25 {
                    posted.append(try await api.tweet("tweet \(index)", token: token))
                }
                let newestFirst = Array(posted.reversed())
                #expect(try await pageThrough(api, "/api/v1/users/\(aliceID)/tweets?limit=7") == newestFirst)
                #expect(try await pageThrough(api, "/api/v1/timelines/public?limit=4") == newestFirst)
                #expect(try await pageThrough(api, "/api/v1/timelines/home?limit=25", token: token) == newestFirst)
                #expect(try await pageThrough(api, "/api/v1/users/\(aliceID)/tweets") == newestFirst)
            }
        }
    }

    @Test func sinceIDReturnsTheNewestOfTheWindow() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (aliceID, token) = try await api.signUp("alice")
                var posted: [String] = []
                for index in 0..<10 {
                    posted.append(try await api.tweet("tweet \(index)", token: token))
                }
                let response = try await api.call(.get, "/api/v1/users/\(aliceID)/tweets?since_id=\(posted[4])&limit=3")
                #expect(try response.tweets().compactMap { $0["id"] as? String } == [posted[9], posted[8], posted[7]])
                #expect(try response.jsonObject()["next_max_id"] as? String == posted[7])
                let rest = try await api.call(
                    .get, "/api/v1/users/\(aliceID)/tweets?since_id=\(posted[4])&max_id=\(posted[7])&limit=3")
                #expect(try rest.tweets().compactMap { $0["id"] as? String } == [posted[6], posted[5]])
                #expect(try rest.jsonObject()["next_max_id"] is NSNull)
            }
        }
    }

    @Test func homeHasTheFollowedAndTheCaller() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, aliceToken) = try await api.signUp("alice")
                let (bobID, bobToken) = try await api.signUp("bob")
                let (_, carolToken) = try await api.signUp("carol")
                _ = try await api.call(.post, "/api/v1/users/\(bobID)/follow", token: aliceToken)
                let own = try await api.tweet("alice's", token: aliceToken)
                let followed = try await api.tweet("bob's", token: bobToken)
                _ = try await api.tweet("carol's", token: carolToken)
                let home = try await api.call(.get, "/api/v1/timelines/home", token: aliceToken)
                #expect(try home.tweets().compactMap { $0["id"] as? String } == [followed, own])
                expectError(try await api.call(.get, "/api/v1/timelines/home"), .unauthorized, "unauthorized")
            }
        }
    }

    @Test func queryErrors() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (aliceID, token) = try await api.signUp("alice")
                for route in ["/api/v1/timelines/public", "/api/v1/timelines/home", "/api/v1/users/\(aliceID)/tweets"] {
                    for query in [
                        "limit=abc", "limit=", "limit=1.0", "limit=+5", "max_id=x", "since_id=1e3", "max_id=%2012",
                    ] {
                        expectError(
                            try await api.call(.get, "\(route)?\(query)", token: token), .badRequest, "bad_request")
                    }
                    for query in ["limit=0", "limit=201", "limit=-1", "limit=99999999999999999999999"] {
                        expectError(
                            try await api.call(.get, "\(route)?\(query)", token: token), .unprocessableContent,
                            "invalid_limit")
                    }
                    for query in ["limit=1", "limit=200", "max_id=99999999999999999999", "since_id=-3", "unknown=1"] {
                        #expect(try await api.call(.get, "\(route)?\(query)", token: token).status == .ok)
                    }
                }
                expectError(try await api.call(.get, "/api/v1/users/424242/tweets"), .notFound, "not_found")
                expectError(try await api.call(.get, "/api/v1/users/424242/tweets?limit=0"), .notFound, "not_found")
                expectError(
                    try await api.call(.get, "/api/v1/users/424242/tweets?limit=zz"), .badRequest, "bad_request")
            }
        }
    }

    @Test func aTimelineServiceThatIsDownIs503() async throws {
        try await GatewayHarness.with(timelinesDown: true) { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (aliceID, token) = try await api.signUp("alice")
                let response = try await api.call(.get, "/api/v1/timelines/public")
                expectError(response, .serviceUnavailable, "unavailable")
                #expect(response.headers[.retryAfter] != nil)
                expectError(
                    try await api.call(.get, "/api/v1/timelines/home", token: token), .serviceUnavailable, "unavailable"
                )
                // The profile timeline reads the TweetService and keeps working.
                #expect(try await api.call(.get, "/api/v1/users/\(aliceID)/tweets").status == .ok)
                expectError(try await api.call(.get, "/readyz"), .serviceUnavailable, "unavailable")
            }
        }
    }
}
