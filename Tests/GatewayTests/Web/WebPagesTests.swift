import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite("Web pages through the router")
struct WebPagesTests {
    @Test func aVisitorSeesThePublicTimelineAndBothForms() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                let home = try await browser.get("/")
                #expect(home.status == .ok)
                #expect(home.headers[.contentType] == "text/html; charset=utf-8")
                #expect(home.html.contains(#"action="/signin""#))
                #expect(home.html.contains(#"action="/signup""#))
                #expect(home.html.contains(#"<label for="signin-username">Username</label>"#))
                #expect(browser.cookies[WebSession.visitorCookie] != nil)
                #expect(home.headers[SecurityHeaders.contentSecurityPolicy] == SecurityHeaders.pagePolicy)
                #expect(!SecurityHeaders.pagePolicy.contains("unsafe-inline"))
                #expect(home.headers[.cacheControl] == "no-store")
                #expect(home.headers[SecurityHeaders.frameOptions] == "DENY")
                #expect(!home.html.contains("<script>"))
            }
        }
    }

    @Test func signUpTweetAndSeeItEscapedOnHomeAndProfile() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                try await browser.signUp("alice")
                let session = try #require(browser.cookies[WebSession.sessionCookie])
                #expect(!session.isEmpty)
                let attack = #"<script>alert("x")</script> & 'quotes'"#
                let posted = try await browser.submit(on: "/", to: "/tweets", [("text", attack)])
                #expect(posted.status == .seeOther)
                #expect(posted.headers[.location] == "/")
                for page in ["/", "/@alice"] {
                    let html = try await browser.get(page).html
                    #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;"))
                    #expect(!html.contains(#"<script>alert"#))
                }
                let profile = try await browser.get("/@alice")
                #expect(profile.html.contains("<h1>@alice</h1>"))
                #expect(profile.html.contains("<strong>1</strong> tweet<"))
                #expect(profile.html.contains(#"<time datetime=""#))
            }
        }
    }

    @Test func theSessionCookieIsHttpOnlySecureAndLax() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                let token = try PageClient.csrfToken(in: try await browser.get("/signup"))
                let answer = try await browser.post(
                    "/signup", [("username", "alice"), ("password", "password123"), ("csrf", token)])
                #expect(answer.headers[.cacheControl] == "no-store")
                let setCookie = try #require(
                    answer.headers[values: .setCookie].first { $0.hasPrefix(WebSession.sessionCookie) })
                for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
                    #expect(setCookie.contains(attribute), "\(setCookie)")
                }
            }
        }
    }

    @Test func formsWithoutTheRightCSRFTokenAreRefused() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                try await browser.signUp("alice")
                let missing = try await browser.post("/tweets", [("text", "forged")])
                #expect(missing.status == .forbidden)
                #expect(missing.html.contains("This form has expired"))
                let wrong = try await browser.post(
                    "/tweets", [("text", "forged"), ("csrf", String(repeating: "ab", count: 32))])
                #expect(wrong.status == .forbidden)
                // Another browser's token is no good either.
                let other = PageClient(client: client)
                let otherToken = try PageClient.csrfToken(in: try await other.get("/"))
                #expect(
                    try await browser.post("/tweets", [("text", "forged"), ("csrf", otherToken)]).status == .forbidden)
                #expect(try await browser.post("/signout", []).status == .forbidden)
                #expect(!(try await browser.get("/@alice").html.contains("forged")))
            }
        }
    }

    @Test func aSessionEndedElsewhereLeavesAVisitorAndItsCookieIsCleared() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                try await browser.signUp("alice")
                let token = try #require(browser.cookies[WebSession.sessionCookie])
                let revoked = try await client.execute(
                    uri: "/api/v1/sessions/current", method: .delete, headers: [.authorization: "Bearer \(token)"])
                #expect(revoked.status == .noContent)
                let home = try await browser.get("/")
                #expect(home.html.contains(#"action="/signin""#))
                #expect(browser.cookies[WebSession.sessionCookie] == nil)
                // The sign-out button of a page loaded before: nothing left to end, so no refusal either.
                try await browser.signUp("bob")
                let bobToken = try #require(browser.cookies[WebSession.sessionCookie])
                _ = try await client.execute(
                    uri: "/api/v1/sessions/current", method: .delete, headers: [.authorization: "Bearer \(bobToken)"])
                let signedOut = try await browser.post("/signout", [])
                #expect(signedOut.status == .seeOther)
                #expect(browser.cookies[WebSession.sessionCookie] == nil)
            }
        }
    }

    @Test func formErrorsStandBesideTheirFieldsWithTheValuesKept() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                let bad = try await browser.submit(
                    on: "/signup", to: "/signup", [("username", "no spaces!"), ("password", "password123")])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.html.contains(#"value="no spaces!""#))
                #expect(bad.html.contains(#"id="signup-username-error">Use 1 to 15 letters"#))
                #expect(bad.html.contains(#"aria-describedby="signup-username-error""#))
                let short = try await browser.submit(
                    on: "/signup", to: "/signup", [("username", "bob"), ("password", "short")])
                #expect(short.html.contains(#"id="signup-password-error""#))
                #expect(!short.html.contains(#"value="short""#))  // a password is never sent back
                try await browser.signUp("alice")
                let taken = PageClient(client: client)
                let again = try await taken.submit(
                    on: "/signup", to: "/signup", [("username", "alice"), ("password", "password123")])
                #expect(again.status == .conflict)
                #expect(again.html.contains("That username is taken"))
                let wrong = try await taken.submit(
                    on: "/signin", to: "/signin", [("username", "alice"), ("password", "wrongpassword")])
                #expect(wrong.status == .unauthorized)
                #expect(wrong.html.contains(#"role="alert""#))
                #expect(wrong.html.contains(#"value="alice""#))
                let long = String(repeating: "x", count: 281)
                let tooLong = try await browser.submit(on: "/", to: "/tweets", [("text", long)])
                #expect(tooLong.status == .unprocessableContent)
                #expect(tooLong.html.contains(#"id="text-error">Write 1 to 280 characters"#))
                #expect(tooLong.html.contains(">\(long)</textarea>"))
            }
        }
    }

    @Test func followReplyDeleteAndSignOut() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let bob = PageClient(client: client)
                try await bob.signUp("bob")
                try await bob.submit(on: "/", to: "/tweets", [("text", "bob was here")])
                let alice = PageClient(client: client)
                try await alice.signUp("alice")
                #expect(try await alice.get("/find?username=%40bob").headers[.location] == "/@bob")
                #expect(try await alice.get("/find?username=nobody").status == .notFound)
                #expect(try await alice.get("/find?username=bad+name").status == .notFound)
                #expect(try await alice.get("/@bob").html.contains(#"action="/@bob/follow""#))
                let followed = try await alice.submit(on: "/@bob", to: "/@bob/follow", [])
                #expect(followed.headers[.location] == "/@bob")
                let profile = try await alice.get("/@bob")
                #expect(profile.html.contains(#"action="/@bob/unfollow""#))
                #expect(!profile.html.contains(#"action="/@bob/follow""#))
                #expect(try await alice.get("/").html.contains("bob was here"))
                #expect(try await alice.get("/@bob/followers").html.contains(#"<a href="/@alice">@alice</a>"#))
                #expect(try await alice.get("/@alice/following").html.contains(#"<a href="/@bob">@bob</a>"#))

                let home = try await alice.get("/").html
                let tweetID = try #require(home.firstMatch(of: #/href="/tweets/([0-9]+)"/#)?.1)
                let reply = try await alice.submit(
                    on: "/tweets/\(tweetID)", to: "/tweets", [("text", "hi bob"), ("in_reply_to_id", String(tweetID))])
                let replyPath = try #require(reply.headers[.location])
                let replyPage = try await alice.get(replyPath).html
                #expect(replyPage.contains("In reply to"))
                #expect(replyPage.contains("bob was here"))
                #expect(replyPage.contains("hi bob"))

                let replyID = String(replyPath.dropFirst("/tweets/".count))
                let deleted = try await alice.submit(
                    on: replyPath, to: "/tweets/\(replyID)/delete", [("return_to", "/@alice")])
                #expect(deleted.headers[.location] == "/@alice")
                #expect(try await alice.get(replyPath).status == .notFound)
                // Bob's tweet has no delete button for alice, and deleting it anyway is refused.
                #expect(!(try await alice.get("/tweets/\(tweetID)").html.contains("/delete")))
                #expect(try await alice.submit(on: "/", to: "/tweets/\(tweetID)/delete", []).status == .forbidden)

                let signedOut = try await alice.submit(on: "/", to: "/signout", [])
                #expect(signedOut.headers[.location] == "/")
                #expect(alice.cookies[WebSession.sessionCookie] == nil)
                #expect(try await alice.get("/").html.contains(#"action="/signin""#))
            }
        }
    }

    @Test func olderLinksPageWithMaxID() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                try await browser.signUp("alice")
                harness.services.nextCursor = 4242
                let home = try await browser.get("/").html
                #expect(home.contains(#"href="/?max_id=4242">Older</a>"#) == false)  // no tweets: no older page
                try await browser.submit(on: "/", to: "/tweets", [("text", "one")])
                #expect(try await browser.get("/").html.contains(#"<a rel="next" href="/?max_id=4242">Older</a>"#))
                _ = try await browser.get("/?max_id=4242")
                #expect(harness.services.lastTimelineQuery?.maxID == 4242)
                #expect(harness.services.lastTimelineQuery?.limit == 20)
                #expect(try await browser.get("/?max_id=abc").status == .badRequest)
            }
        }
    }

    @Test func errorsArePagesForPeople() async throws {
        try await GatewayHarness.with(timelinesDown: true) { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                let missing = try await browser.get("/@nobody")
                #expect(missing.status == .notFound)
                #expect(missing.html.contains("Page not found"))
                #expect(try await browser.get("/no/such/page").html.contains("Page not found"))
                #expect(try await browser.get("/tweets/123").status == .notFound)
                let down = try await browser.get("/")
                #expect(down.status == .serviceUnavailable)
                #expect(down.html.contains(#"class="whale""#))
                #expect(down.headers[.retryAfter] == "1")
                #expect(!down.html.contains("Wire"))
                // The API keeps its JSON errors.
                expectError(try await client.execute(uri: "/api/v1/nowhere", method: .get), .notFound, "not_found")
            }
        }
    }

    @Test func tooManyRequestsIsAPageThatSaysWhenToRetry() async throws {
        let slowRate: (inout GatewayConfiguration) -> Void = {
            $0.rateLimit = RateLimiter.Configuration(requestsPerSecond: 1, burst: 1)
        }
        try await GatewayHarness.with(configure: slowRate) { harness in
            try await harness.withRouterClient { client in
                let browser = PageClient(client: client)
                _ = try await browser.get("/signin")
                let limited = try await browser.get("/signin")
                #expect(limited.status == .tooManyRequests)
                #expect(limited.html.contains("Slow down"))
                let retry = try #require(limited.headers[.retryAfter])
                let seconds = retry == "1" ? "1 second" : "\(retry) seconds"
                #expect(limited.html.contains("try again in <strong>\(seconds)</strong>"))
            }
        }
    }
}
