import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Wire

@testable import Gateway

@Suite("Following")
struct FollowRoutesTests {
    @Test func followAndUnfollowAreIdempotent() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (_, aliceToken) = try await api.signUp("alice")
                let (bobID, _) = try await api.signUp("bob")
                for _ in 0..<2 {
                    let response = try await api.call(.post, "/api/v1/users/\(bobID)/follow", token: aliceToken)
                    #expect(response.status == .ok)
                    #expect(try response.jsonObject()["following"] as? Bool == true)
                }
                #expect(try await api.call(.get, "/api/v1/users/\(bobID)").jsonObject()["followers_count"] as? Int == 1)
                for _ in 0..<2 {
                    let response = try await api.call(.delete, "/api/v1/users/\(bobID)/follow", token: aliceToken)
                    #expect(response.status == .ok)
                    #expect(try response.jsonObject()["following"] as? Bool == false)
                }
                #expect(try await api.call(.get, "/api/v1/users/\(bobID)").jsonObject()["followers_count"] as? Int == 0)
            }
        }
    }

    @Test func followErrors() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (aliceID, aliceToken) = try await api.signUp("alice")
                expectError(
                    try await api.call(.post, "/api/v1/users/\(aliceID)/follow", token: aliceToken),
                    .unprocessableContent, "self_follow")
                expectError(
                    try await api.call(.delete, "/api/v1/users/\(aliceID)/follow", token: aliceToken),
                    .unprocessableContent, "self_follow")
                expectError(
                    try await api.call(.post, "/api/v1/users/424242/follow", token: aliceToken), .notFound, "not_found")
                expectError(
                    try await api.call(.delete, "/api/v1/users/424242/follow", token: aliceToken), .notFound,
                    "not_found")
                expectError(
                    try await api.call(.post, "/api/v1/users/x/follow", token: aliceToken), .notFound, "not_found")
                expectError(try await api.call(.post, "/api/v1/users/\(aliceID)/follow"), .unauthorized, "unauthorized")
                expectError(
                    try await api.call(.post, "/api/v1/users/\(aliceID)/follow", token: "1.nope"), .unauthorized,
                    "unauthorized")
                expectError(
                    try await api.call(.put, "/api/v1/users/\(aliceID)/follow", token: aliceToken), .methodNotAllowed,
                    "method_not_allowed")
            }
        }
    }

    /// Lists are newest first; `limit` and `cursor` reach the service as given, and its cursor comes back as a
    /// string, or null. Paging through a long list is tested against the real services (`EndToEndTests`).
    @Test func followerListsAreNewestFirstAndPassTheirCursorBothWays() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (starID, _) = try await api.signUp("star")
                var fans: [String] = []
                for index in 0..<3 {
                    let (fanID, fanToken) = try await api.signUp("fan\(index)")
                    _ = try await api.call(.post, "/api/v1/users/\(starID)/follow", token: fanToken)
                    fans.append(fanID)
                }
                let star = try #require(Int64(starID))
                let page = try await api.call(.get, "/api/v1/users/\(starID)/followers").jsonObject()
                #expect(Set(page.keys) == ["users", "next_cursor"])
                let users = try #require(page["users"] as? [[String: Any]])
                users.forEach { expectUserShape($0) }
                #expect(users.compactMap { $0["id"] as? String } == fans.reversed())
                #expect(page["next_cursor"] is NSNull)
                #expect(harness.services.lastPageRequest == PageRequest(userID: star, limit: 50))

                harness.services.nextCursor = 4321
                let next = try await api.call(.get, "/api/v1/users/\(starID)/followers?limit=2&cursor=77").jsonObject()
                #expect(harness.services.lastPageRequest == PageRequest(userID: star, limit: 2, cursor: 77))
                #expect(next["next_cursor"] as? String == "4321")
                harness.services.nextCursor = nil

                let following = try await api.call(.get, "/api/v1/users/\(fans[0])/following").jsonObject()
                #expect((following["users"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [starID])
                #expect(following["next_cursor"] is NSNull)
            }
        }
    }

    @Test func followerListChecksRunBadRequestThenNotFoundThenLimit() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (id, _) = try await api.signUp("alice")
                for list in ["followers", "following"] {
                    expectError(
                        try await api.call(.get, "/api/v1/users/\(id)/\(list)?limit=abc"), .badRequest, "bad_request")
                    expectError(
                        try await api.call(.get, "/api/v1/users/\(id)/\(list)?cursor=1.5"), .badRequest, "bad_request")
                    expectError(
                        try await api.call(.get, "/api/v1/users/424242/\(list)?limit=abc"), .badRequest, "bad_request")
                    expectError(
                        try await api.call(.get, "/api/v1/users/424242/\(list)?limit=0"), .notFound, "not_found")
                    expectError(try await api.call(.get, "/api/v1/users/424242/\(list)"), .notFound, "not_found")
                    expectError(
                        try await api.call(.get, "/api/v1/users/\(id)/\(list)?limit=0"), .unprocessableContent,
                        "invalid_limit")
                    expectError(
                        try await api.call(.get, "/api/v1/users/\(id)/\(list)?limit=201"), .unprocessableContent,
                        "invalid_limit")
                    #expect(try await api.call(.get, "/api/v1/users/\(id)/\(list)?limit=200").status == .ok)
                }
            }
        }
    }
}
