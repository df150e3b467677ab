import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The cross-cutting checks and their order: 413, 404/405, 429, 401, then the route's own.
@Suite("Order of checks, limits and operational routes")
struct GatewayResponderTests {
    @Test func unknownRoutesAre404AndWrongMethods405WithAllow() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                for uri in [
                    "/api", "/api/v1", "/api/v1/users/", "/api/v1/nothing", "/api/v2/users", "/api/v1/users/1/2/3",
                ] {
                    expectError(try await api.call(.get, uri), .notFound, "not_found")
                }
                let wrong = try await api.call(.put, "/api/v1/users")
                expectError(wrong, .methodNotAllowed, "method_not_allowed")
                #expect(wrong.headers[.allow] == "POST, GET")
                let tweet = try await api.call(.patch, "/api/v1/tweets/1")
                #expect(tweet.headers[.allow] == "GET, DELETE")
                // 405 comes before 401: no token, wrong method.
                expectError(try await api.call(.get, "/api/v1/users/1/follow"), .methodNotAllowed, "method_not_allowed")
                expectError(
                    try await api.call(.post, "/api/v1/timelines/home"), .methodNotAllowed, "method_not_allowed")
            }
        }
    }

    @Test func authenticationComesBeforeTheRoutesOwnChecks() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                // Unknown user, bad body, bad query: all 401 first.
                expectError(try await api.call(.post, "/api/v1/users/424242/follow"), .unauthorized, "unauthorized")
                expectError(try await api.call(.post, "/api/v1/tweets", json: "garbage"), .unauthorized, "unauthorized")
                expectError(try await api.call(.get, "/api/v1/timelines/home?limit=abc"), .unauthorized, "unauthorized")
                for header in ["Basic abc", "Bearer", "Bearer ", "bearer a b", "Token abc"] {
                    let response = try await api.call(.get, "/api/v1/timelines/home", headers: [.authorization: header])
                    expectError(response, .unauthorized, "unauthorized")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                }
            }
        }
    }

    @Test func answersCarryBrowserSafetyHeadersAndPrivateOnesAreNotStored() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (id, token) = try await api.signUp("alice")
                let signIn = try await api.call(
                    .post, "/api/v1/sessions", json: #"{"username":"alice","password":"password123"}"#)
                let privateAnswers = [
                    signIn,
                    try await api.call(.get, "/api/v1/timelines/home", token: token),
                    try await api.call(.get, "/api/v1/timelines/home"),
                    try await api.call(.get, "/api/v1/users/\(id)", token: token),
                ]
                let publicAnswers = [
                    try await api.call(.get, "/healthz"),
                    try await api.call(.get, "/api/v1/users/\(id)"),
                    try await api.call(.get, "/api/v1/nothing"),
                    try await api.call(.post, "/api/v1/users", json: "{nope"),
                ]
                for response in privateAnswers + publicAnswers {
                    #expect(response.headers[SecurityHeaders.contentTypeOptions] == "nosniff")
                    #expect(response.headers[SecurityHeaders.strictTransportSecurity] == "max-age=31536000")
                }
                for response in privateAnswers {
                    #expect(response.headers[.cacheControl] == "no-store", "\(response.status)")
                }
                for response in publicAnswers {
                    #expect(response.headers[.cacheControl] == nil, "\(response.status)")
                }
            }
        }
    }

    @Test func signingOutRevokesThatTokenOnlyAndThisGatewayForgetsItAtOnce() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, phone) = try await api.signUp("alice")
                let laptop = try #require(
                    try await api.call(
                        .post, "/api/v1/sessions", json: #"{"username":"alice","password":"password123"}"#
                    ).jsonObject()["token"] as? String)
                // Both sessions work, and the phone's is now in the token cache.
                #expect(try await api.call(.get, "/api/v1/timelines/home", token: phone).status == .ok)
                #expect(try await api.call(.get, "/api/v1/timelines/home", token: laptop).status == .ok)
                let signOut = try await api.call(.delete, "/api/v1/sessions/current", token: phone)
                #expect(signOut.status == .noContent)
                #expect(signOut.headers[.cacheControl] == "no-store")
                expectError(
                    try await api.call(.get, "/api/v1/timelines/home", token: phone), .unauthorized, "unauthorized")
                expectError(
                    try await api.call(.delete, "/api/v1/sessions/current", token: phone), .unauthorized, "unauthorized"
                )
                expectError(try await api.call(.delete, "/api/v1/sessions/current"), .unauthorized, "unauthorized")
                #expect(try await api.call(.get, "/api/v1/timelines/home", token: laptop).status == .ok)
            }
        }
    }

    @Test func tokenChecksAreCached() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, token) = try await api.signUp("alice")
                for _ in 0..<5 {
                    #expect(try await api.call(.get, "/api/v1/timelines/home", token: token).status == .ok)
                }
                #expect(harness.services.resolveTokenCalls.load(ordering: .relaxed) == 1)
            }
        }
    }

    @Test func bodiesOver64KiBAre413WhateverTheRoute() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, token) = try await api.signUp("alice")
                let text = String(repeating: "a", count: 65_537 - #"{"text":""}"#.utf8.count)
                let over = #"{"text":"\#(text)"}"#
                #expect(over.utf8.count == 65_537)
                expectError(
                    try await api.call(.post, "/api/v1/tweets", token: token, json: over), .contentTooLarge,
                    "payload_too_large")
                expectError(
                    try await api.call(.post, "/api/v1/nowhere", json: over), .contentTooLarge, "payload_too_large")
                let exactly = #"{"text":"\#(text.dropLast())"}"#
                #expect(exactly.utf8.count == 65_536)
                // At the limit the body is read, and the text (65,525 characters) is what is wrong.
                expectError(
                    try await api.call(.post, "/api/v1/tweets", token: token, json: exactly), .unprocessableContent,
                    "invalid_text")
            }
        }
    }

    @Test func clientsOverTheirRateAre429WithRetryAfter() async throws {
        // One token per 100 s: however slow a loaded machine runs this test, nothing refills in between.
        let slowRate: (inout GatewayConfiguration) -> Void = {
            $0.rateLimit = RateLimiter.Configuration(requestsPerSecond: 0.01, burst: 3)
        }
        try await GatewayHarness.with(configure: slowRate) { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                for _ in 0..<3 {
                    #expect(try await api.call(.get, "/api/v1/timelines/public").status == .ok)
                }
                let limited = try await api.call(.get, "/api/v1/timelines/public")
                expectError(limited, .tooManyRequests, "rate_limited")
                // Whole seconds until the next token: at most 100, less if the machine was slow between the requests.
                #expect((90...100).contains(Int(limited.headers[.retryAfter] ?? "") ?? 0))
                // Probes are never limited.
                #expect(try await api.call(.get, "/healthz").status == .ok)
            }
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                #expect(try await api.call(.get, "/healthz").jsonObject()["status"] as? String == "ok")
                // Readiness allows each service a second; the first check also opens the Wire connections, which a
                // machine busy with the other suites may not manage in time.
                var ready = try await api.call(.get, "/readyz")
                for _ in 0..<5 where ready.status != .ok {
                    ready = try await api.call(.get, "/readyz")
                }
                #expect(try ready.jsonObject()["status"] as? String == "ready")
                _ = try await api.call(.get, "/api/v1/users/424242")
                let metrics = try await api.call(.get, "/metrics")
                #expect(metrics.status == .ok)
                #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: metrics.body)
                #expect(
                    text.contains(
                        #"gateway_http_requests_total{route="/api/v1/users/{id}",method="GET",status="404"} 1"#))
                #expect(text.contains("gateway_http_request_duration_seconds_bucket"))
                #expect(
                    text.contains(
                        #"gateway_upstream_request_duration_seconds_count{service="tweet-service",method="get_users",outcome="ok"}"#
                    ))
                #expect(text.contains("gateway_http_requests_in_flight"))
            }
        }
    }
}
