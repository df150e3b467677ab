import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Wire

@testable import Gateway

@Suite("Timelines")
struct TimelineRoutesTests {
    /// The Gateway's part of paging: `limit`, `max_id` and `since_id` reach the service as they were given (or the
    /// default limit), and the service's `next_max_id` comes back as a string, or null. Paging itself (no repeats, no
    /// gaps, windows) is the services' and is tested against them (`EndToEndTests`).
    @Test(arguments: ClientPath.allCases) func pagingParametersReachTheServicesAndTheirCursorComesBack(path: ClientPath)
        async throws
    {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
                let api = APIClient(client: client)
                let (aliceID, token) = try await api.signUp("alice")
                var posted: [String] = []
                for index in 0..<3 {
                    posted.append(try await api.tweet("tweet \(index)", token: token))
                }
                let alice = try #require(Int64(aliceID))
                let reads: [(uri: String, token: String?, user: Int64)] = [
                    ("/api/v1/users/\(aliceID)/tweets", nil, alice),
                    ("/api/v1/timelines/public", nil, 0),
                    ("/api/v1/timelines/home", token, alice),
                ]
                for read in reads {
                    harness.services.nextCursor = nil
                    let first = try await api.call(.get, read.uri, token: read.token)
                    #expect(first.status == .ok)
                    #expect(harness.services.lastTimelineQuery == TimelineQuery(userID: read.user, limit: 50))
                    #expect(try first.jsonObject()["next_max_id"] is NSNull)
                    #expect(try first.tweets().compactMap { $0["id"] as? String } == posted.reversed(), "\(read.uri)")
                    try first.tweets().forEach { expectTweetShape($0) }

                    harness.services.nextCursor = 1234
                    let next = try await api.call(.get, read.uri + "?limit=2&max_id=999&since_id=5", token: read.token)
                    #expect(
                        harness.services.lastTimelineQuery
                            == TimelineQuery(userID: read.user, limit: 2, maxID: 999, sinceID: 5), "\(read.uri)")
                    #expect(try next.jsonObject()["next_max_id"] as? String == "1234", "\(read.uri)")

                    // A fragment ends the query, as Hummingbird reads it (a client should not send one).
                    let fragment = try await api.call(.get, read.uri + "?limit=3#top", token: read.token)
                    #expect(fragment.status == .ok, "\(read.uri)")
                    #expect(harness.services.lastTimelineQuery?.limit == 3, "\(read.uri)")
                }
            }
        }
    }

    @Test(arguments: ClientPath.allCases) func homeHasTheFollowedAndTheCaller(path: ClientPath) async throws {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
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

    @Test(arguments: ClientPath.allCases) func queryErrors(path: ClientPath) async throws {
        try await GatewayHarness.with { harness in
            try await harness.withClient(path) { client in
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

    @Test(arguments: ClientPath.allCases) func aTimelineServiceThatIsDownIs503(path: ClientPath) async throws {
        try await GatewayHarness.with(timelinesDown: true) { harness in
            try await harness.withClient(path) { client in
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
