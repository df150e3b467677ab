import Foundation
import HTTPTestSupport
import NIOCore
import NIOHTTP1
import Testing

extension EndToEnd {
    /// Sign-out, expiry and the headers a browser needs, against the real processes over real TLS.
    @Suite("End to end: sessions and browser headers", .serialized)
    struct SessionEndToEndTests {
        /// Signs `account` in once more, as another device would; returns the new session.
        private func signInAgain(_ account: Account, api: TweeterAPI) async throws -> Account {
            let reply = try await api.call(
                .POST, "/api/v1/sessions", json: #"{"username":"\#(account.username)","password":"correct horse"}"#)
            guard reply.status == 201, let token = try reply.jsonObject()["token"] as? String else {
                throw EndToEndFailure("sign-in answered \(reply.status): \(String(buffer: reply.body))")
            }
            return Account(id: account.id, username: account.username, token: token)
        }

        /// Polls `uri` as `account` on `port` until it is 401, for up to `timeout`; whether it became 401.
        private func becomesUnauthorized(
            _ uri: String, as account: Account, port: Int, system: SystemUnderTest, within timeout: Duration
        ) async throws -> Bool {
            try await HTTPSConnection.with(host: system.host, port: port, tls: system.tls) { connection in
                let api = TweeterAPI(connection: connection)
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    if try await api.call(.GET, uri, as: account).status == 401 { return true }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return false
            }
        }

        @Test func signingOutRevokesThatSessionEverywhereAndNoOther() async throws {
            try await withSystem { system in
                let otherPort = try await SystemUnderTest.freePort()
                let other = try await system.startExtraGateway(name: "second-gateway", port: otherPort, arguments: [])
                do {
                    let home = "/api/v1/timelines/home"
                    let (phone, laptop) = try await HTTPSConnection.with(
                        host: system.host, port: system.gatewayPort, tls: system.tls
                    ) {
                        let api = TweeterAPI(connection: $0)
                        let phone = try await api.signUp("out")
                        return (phone, try await signInAgain(phone, api: api))
                    }
                    // The second Gateway confirms (and caches) the phone's token before it is revoked elsewhere.
                    let cached = try await HTTPSConnection.with(host: system.host, port: otherPort, tls: system.tls) {
                        connection in
                        try await TweeterAPI(connection: connection).call(.GET, home, as: phone).status
                    }
                    #expect(cached == 200)
                    try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                        connection in
                        let api = TweeterAPI(connection: connection)
                        #expect(try await api.call(.GET, home, as: phone).status == 200)
                        let signOut = try await api.call(.DELETE, "/api/v1/sessions/current", as: phone)
                        #expect(signOut.status == 204)
                        #expect(signOut.headers["Cache-Control"].first == "no-store")
                        expectError(try await api.call(.GET, home, as: phone), 401, "unauthorized")
                        expectError(
                            try await api.call(.DELETE, "/api/v1/sessions/current", as: phone), 401, "unauthorized")
                        #expect(
                            try await api.call(.GET, home, as: laptop).status == 200, "the other device stays signed in"
                        )
                    }
                    // Refused by the other Gateway once its cache entry (at most 5 s) runs out; generous bound.
                    #expect(
                        try await becomesUnauthorized(
                            home, as: phone, port: otherPort, system: system, within: .seconds(15)))
                } catch {
                    await other.stop()
                    throw error
                }
                await other.stop()
            }
        }

        @Test func anIdleSessionExpiresAndOneInUseSlides() async throws {
            try await withSystem(
                tweetServiceArguments: ["--session-lifetime-seconds", "3", "--session-renewal-seconds", "0"],
                gatewayArguments: ["--token-cache-seconds", "0"]
            ) { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let home = "/api/v1/timelines/home"
                    let used = try await api.signUp("exp")
                    let idle = try await signInAgain(used, api: api)
                    #expect(try await api.call(.GET, home, as: idle).status == 200)
                    // A fixed wait, not a poll: asking with the unused session would renew it (sessions slide on use).
                    let until = ContinuousClock.now + .seconds(6)
                    while ContinuousClock.now < until {
                        #expect(try await api.call(.GET, home, as: used).status == 200)
                        try await Task.sleep(for: .milliseconds(250))
                    }
                    expectError(try await api.call(.GET, home, as: idle), 401, "unauthorized")
                }
            }
        }

        @Test func everyAnswerCarriesBrowserHeadersAndPrivateOnesAreNotStored() async throws {
            try await withSystem { system in
                try await HTTPSConnection.with(host: system.host, port: system.gatewayPort, tls: system.tls) {
                    connection in
                    let api = TweeterAPI(connection: connection)
                    let account = try await api.signUp("hdr")
                    let privateReplies = [
                        try await api.call(.GET, "/api/v1/timelines/home", as: account),
                        try await api.call(.GET, "/api/v1/timelines/home"),
                        try await api.call(
                            .POST, "/api/v1/sessions",
                            json: #"{"username":"\#(account.username)","password":"correct horse"}"#),
                    ]
                    let publicReplies = [
                        try await api.call(.GET, "/healthz"),
                        try await api.call(.GET, "/api/v1/users/\(account.id)"),
                        try await api.call(.GET, "/api/v1/users"),
                        try await api.call(.POST, "/api/v1/users", json: #"{"username":"x","password":"12345678",}"#),
                    ]
                    for reply in privateReplies + publicReplies {
                        #expect(reply.headers["X-Content-Type-Options"].first == "nosniff")
                        #expect(reply.headers["Strict-Transport-Security"].first == "max-age=31536000")
                    }
                    for reply in privateReplies {
                        #expect(reply.headers["Cache-Control"].first == "no-store", "\(reply.status)")
                    }
                    for reply in publicReplies {
                        #expect(reply.headers["Cache-Control"].isEmpty, "\(reply.status)")
                    }
                    expectError(publicReplies[2], 400, "bad_request")
                    expectError(publicReplies[3], 400, "bad_request")
                }
            }
        }
    }
}
