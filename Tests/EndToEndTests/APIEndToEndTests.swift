import Foundation
import HTTPTestSupport
import NIOCore
import NIOHTTP1
import Testing

extension EndToEnd {
    /// Every route and every error of the public API, against the real processes over real TLS.
    @Suite("End to end: the API", .serialized)
    struct APIEndToEndTests {
        @Test func accountsAndLookups() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    #expect(try await api.call(.GET, "/healthz").status == 200)
                    #expect(try await api.call(.GET, "/readyz").status == 200)

                    let name = TweeterAPI.uniqueName("acc")
                    let created = try await api.call(
                        .POST, "/api/v1/users", json: #"{"username":"\#(name)","password":"password123"}"#)
                    #expect(created.status == 201)
                    expectUserShape(try created.jsonObject())
                    let id = try #require(try created.jsonObject()["id"] as? String)
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/users", json: #"{"username":"\#(name)","password":"password123"}"#), 409,
                        "username_taken")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/users", json: #"{"username":"no spaces","password":"password123"}"#), 422,
                        "invalid_username")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/users", json: #"{"username":"\#(name)x","password":"short"}"#),
                        422, "invalid_password")
                    expectError(
                        try await api.call(.POST, "/api/v1/users", json: #"{"password":"password123"}"#), 422,
                        "invalid_username")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/users", json: #"{"username":null,"password":"password123"}"#),
                        400, "bad_request")
                    expectError(try await api.call(.POST, "/api/v1/users", json: "[1,2]"), 400, "bad_request")
                    expectError(try await api.call(.POST, "/api/v1/users", json: "{nope"), 400, "bad_request")

                    let session = try await api.call(
                        .POST, "/api/v1/sessions", json: #"{"username":"\#(name)","password":"password123"}"#)
                    #expect(session.status == 201)
                    #expect(try session.jsonObject()["token"] is String)
                    expectUserShape(try session.jsonObject()["user"] as? [String: Any])
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/sessions", json: #"{"username":"\#(name)","password":"password124"}"#), 401,
                        "unauthorized")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/sessions", json: #"{"username":"\#(name)x","password":"password123"}"#),
                        401,
                        "unauthorized")

                    #expect(try await api.call(.GET, "/api/v1/users/\(id)").jsonObject()["username"] as? String == name)
                    #expect(
                        try await api.call(.GET, "/api/v1/users?username=\(name)").jsonObject()["id"] as? String == id)
                    expectError(try await api.call(.GET, "/api/v1/users/1"), 404, "not_found")
                    expectError(try await api.call(.GET, "/api/v1/users/abc"), 404, "not_found")
                    expectError(try await api.call(.GET, "/api/v1/users?username=\(name)zz"), 404, "not_found")
                    expectError(try await api.call(.GET, "/api/v1/nothing/here"), 404, "not_found")
                    let wrongMethod = try await api.call(.PUT, "/api/v1/users/\(id)")
                    expectError(wrongMethod, 405, "method_not_allowed")
                    #expect(wrongMethod.headers["Allow"].first == "GET")
                }
            }
        }

        @Test func followingAndItsLists() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let star = try await api.signUp("star")
                    var fans: [Account] = []
                    for _ in 0..<3 {
                        let fan = try await api.signUp("fan")
                        for _ in 0..<2 {
                            let reply = try await api.call(.POST, "/api/v1/users/\(star.id)/follow", as: fan)
                            #expect(reply.status == 200)
                            #expect(try reply.jsonObject()["following"] as? Bool == true)
                        }
                        fans.append(fan)
                    }
                    var listed: [String] = []
                    var cursor: String?
                    repeat {
                        let reply = try await api.call(
                            .GET, "/api/v1/users/\(star.id)/followers?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                        let page = try reply.jsonObject()
                        listed += (page["users"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                        cursor = page["next_cursor"] as? String
                    } while cursor != nil
                    #expect(listed == fans.reversed().map(\.id), "newest relationship first, no repeat or gap")
                    let following = try await api.call(.GET, "/api/v1/users/\(fans[0].id)/following").jsonObject()
                    #expect((following["users"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [star.id])
                    #expect(following["next_cursor"] is NSNull)
                    #expect(
                        try await api.call(.GET, "/api/v1/users/\(star.id)").jsonObject()["followers_count"] as? Int
                            == 3)

                    let unfollow = try await api.call(.DELETE, "/api/v1/users/\(star.id)/follow", as: fans[0])
                    #expect(try unfollow.jsonObject()["following"] as? Bool == false)
                    #expect(try await api.call(.DELETE, "/api/v1/users/\(star.id)/follow", as: fans[0]).status == 200)
                    expectError(
                        try await api.call(.POST, "/api/v1/users/\(star.id)/follow", as: star), 422, "self_follow")
                    expectError(try await api.call(.POST, "/api/v1/users/1/follow", as: star), 404, "not_found")
                    expectError(try await api.call(.DELETE, "/api/v1/users/1/follow", as: star), 404, "not_found")
                    expectError(try await api.call(.POST, "/api/v1/users/\(star.id)/follow"), 401, "unauthorized")
                    var forged = star
                    forged.token = "\(star.id).\(String(repeating: "0", count: 64))"
                    expectError(
                        try await api.call(.POST, "/api/v1/users/\(fans[1].id)/follow", as: forged), 401, "unauthorized"
                    )
                    expectError(
                        try await api.call(.GET, "/api/v1/users/\(star.id)/followers?limit=x"), 400, "bad_request")
                    expectError(
                        try await api.call(.GET, "/api/v1/users/\(star.id)/followers?cursor=x"), 400, "bad_request")
                    expectError(
                        try await api.call(.GET, "/api/v1/users/\(star.id)/following?limit=0"), 422, "invalid_limit")
                    expectError(try await api.call(.GET, "/api/v1/users/1/followers"), 404, "not_found")
                    expectError(try await api.call(.GET, "/api/v1/users/\(star.id)/follow"), 405, "method_not_allowed")
                }
            }
        }

        @Test func tweetsAndTheirErrors() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let alice = try await api.signUp("alice")
                    let bob = try await api.signUp("bob")
                    let created = try await api.call(
                        .POST, "/api/v1/tweets", as: alice, json: #"{"text":"  spaced out  "}"#)
                    #expect(created.status == 201)
                    let tweet = try created.jsonObject()
                    expectTweetShape(tweet)
                    #expect(tweet["text"] as? String == "  spaced out  ")
                    #expect(tweet["user_id"] as? String == alice.id)
                    let id = try #require(tweet["id"] as? String)
                    #expect(try await api.call(.GET, "/api/v1/tweets/\(id)").jsonObject()["id"] as? String == id)
                    #expect(
                        try await api.page("/api/v1/users/\(alice.id)/tweets").ids == [id],
                        "the profile shows a new tweet at once")

                    let family = String(repeating: "👩‍👩‍👧‍👦", count: 280)
                    #expect(
                        try await api.call(.POST, "/api/v1/tweets", as: alice, json: #"{"text":"\#(family)"}"#).status
                            == 201)
                    expectError(
                        try await api.call(.POST, "/api/v1/tweets", as: alice, json: #"{"text":"\#(family)!"}"#), 422,
                        "invalid_text")
                    expectError(
                        try await api.call(.POST, "/api/v1/tweets", as: alice, json: #"{"text":""}"#), 422,
                        "invalid_text")
                    expectError(try await api.call(.POST, "/api/v1/tweets", as: alice, json: "{}"), 422, "invalid_text")
                    expectError(
                        try await api.call(.POST, "/api/v1/tweets", as: alice, json: #"{"text":null}"#), 400,
                        "bad_request")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/tweets", as: alice, json: #"{"text":"x","in_reply_to_id":\#(id)}"#), 400,
                        "bad_request")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/tweets", as: alice, json: #"{"text":"x","in_reply_to_id":"1"}"#),
                        422, "invalid_in_reply_to_id")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/tweets", as: alice, json: #"{"text":"x","in_reply_to_id":"id"}"#), 422,
                        "invalid_in_reply_to_id")
                    expectError(
                        try await api.call(.POST, "/api/v1/tweets", json: #"{"text":"x"}"#), 401, "unauthorized")

                    let reply = try await api.call(
                        .POST, "/api/v1/tweets", as: bob, json: #"{"text":"re","in_reply_to_id":"\#(id)"}"#)
                    #expect(try reply.jsonObject()["in_reply_to_id"] as? String == id)
                    expectError(try await api.call(.DELETE, "/api/v1/tweets/\(id)", as: bob), 403, "forbidden")
                    expectError(try await api.call(.DELETE, "/api/v1/tweets/\(id)"), 401, "unauthorized")
                    let deleted = try await api.call(.DELETE, "/api/v1/tweets/\(id)", as: alice)
                    #expect(deleted.status == 204)
                    expectError(try await api.call(.GET, "/api/v1/tweets/\(id)"), 404, "not_found")
                    expectError(try await api.call(.DELETE, "/api/v1/tweets/\(id)", as: alice), 404, "not_found")
                    expectError(
                        try await api.call(
                            .POST, "/api/v1/tweets", as: bob, json: #"{"text":"re","in_reply_to_id":"\#(id)"}"#), 422,
                        "invalid_in_reply_to_id")
                    #expect(
                        !(try await api.page("/api/v1/users/\(alice.id)/tweets").ids.contains(id)),
                        "the profile drops a deletion at once")
                    expectError(
                        try await api.call(.PATCH, "/api/v1/tweets/\(id)", as: alice), 405, "method_not_allowed")
                }
            }
        }

        @Test func timelineQueryErrorsAndLimits() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let alice = try await api.signUp("q")
                    for route in [
                        "/api/v1/timelines/public", "/api/v1/timelines/home", "/api/v1/users/\(alice.id)/tweets",
                    ] {
                        for query in ["limit=ten", "max_id=1.5", "since_id=x", "limit="] {
                            expectError(try await api.call(.GET, "\(route)?\(query)", as: alice), 400, "bad_request")
                        }
                        for query in ["limit=0", "limit=201", "limit=-5"] {
                            expectError(try await api.call(.GET, "\(route)?\(query)", as: alice), 422, "invalid_limit")
                        }
                        #expect(try await api.call(.GET, "\(route)?limit=200", as: alice).status == 200)
                    }
                    expectError(try await api.call(.GET, "/api/v1/timelines/home"), 401, "unauthorized")
                    expectError(try await api.call(.GET, "/api/v1/users/1/tweets"), 404, "not_found")
                    expectError(try await api.call(.POST, "/api/v1/timelines/public"), 405, "method_not_allowed")
                    let metrics = try await api.call(.GET, "/metrics")
                    #expect(String(buffer: metrics.body).contains(#"route="/api/v1/timelines/home""#))
                }
            }
        }

        @Test func clientsOverTheirRateAre429() async throws {
            try await withSystem { system in
                let port = try await SystemUnderTest.freePort()
                let strict = try await system.startExtraGateway(
                    name: "strict-gateway", port: port, arguments: ["--rate-limit", "1", "--rate-burst", "3"])
                do {
                    try await HTTPSConnection.with(host: system.host, port: port, tls: system.tls) { connection in
                        let api = TweeterAPI(connection: connection)
                        var statuses: [Int] = []
                        var retryAfter: String?
                        for _ in 0..<6 {
                            let reply = try await api.call(.GET, "/api/v1/timelines/public")
                            statuses.append(reply.status)
                            if reply.status == 429 {
                                expectError(reply, 429, "rate_limited")
                                retryAfter = reply.headers["Retry-After"].first
                            }
                        }
                        #expect(statuses.prefix(3).allSatisfy { $0 == 200 })
                        #expect(statuses.contains(429))
                        #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
                        #expect(try await api.call(.GET, "/healthz").status == 200, "probes are not limited")
                    }
                } catch {
                    await strict.stop()
                    throw error
                }
                await strict.stop()
            }
        }
    }
}
