import Hummingbird
import Testing
import Wire

@testable import Gateway

@Suite("Web pages: relative times")
struct RelativeTimeTests {
    private let now: Int64 = 1_796_300_000_000  // 2026-12-03T12:13:20Z

    @Test func recentTimesAreShortAndRelative() {
        #expect(RelativeTime(millis: now - 2_000, nowMillis: now).text == "now")
        #expect(RelativeTime(millis: now + 3_000, nowMillis: now).text == "now")  // a writer's clock a little ahead
        #expect(RelativeTime(millis: now - 42_000, nowMillis: now).text == "42s")
        #expect(RelativeTime(millis: now - 3 * 60_000 - 5_000, nowMillis: now).text == "3m")
        #expect(RelativeTime(millis: now - 5 * 3_600_000, nowMillis: now).text == "5h")
        #expect(RelativeTime(millis: now - 2 * 86_400_000, nowMillis: now).text == "2d")
    }

    @Test func olderTimesAreDatesWithTheYearWhenItDiffers() {
        #expect(RelativeTime(millis: now - 30 * 86_400_000, nowMillis: now).text == "Nov 3")
        #expect(RelativeTime(millis: now - 400 * 86_400_000, nowMillis: now).text == "Oct 29, 2025")
    }

    @Test func exactTimeIsMachineReadableAndHumanReadable() {
        let time = RelativeTime(millis: now, nowMillis: now)
        #expect(time.machine == "2026-12-03T12:13:20.000Z")
        #expect(time.exact == "2026-12-03 12:13 UTC")
        #expect(time.day == "Dec 3, 2026")
    }
}

@Suite("Web pages: CSRF tokens")
struct CSRFProtectionTests {
    private let keys = WireServiceKeys.generate()

    @Test func aTokenIsValidOnlyForItsOwnBinding() {
        let csrf = CSRFProtection(serviceKeys: keys)
        let token = csrf.token(for: "session-a")
        #expect(token.utf8.count == 64)
        #expect(csrf.isValid(token, for: "session-a"))
        #expect(!csrf.isValid(token, for: "session-b"))
        #expect(!csrf.isValid(nil, for: "session-a"))
        #expect(!csrf.isValid(token, for: nil))
        #expect(!csrf.isValid("", for: "session-a"))
        let altered = String(token.dropLast()) + (token.hasSuffix("0") ? "1" : "0")
        #expect(!csrf.isValid(altered, for: "session-a"))
    }

    @Test func everyGatewayOfTheClusterAgreesAndOtherClustersDoNot() {
        let token = CSRFProtection(serviceKeys: keys).token(for: "session")
        #expect(CSRFProtection(serviceKeys: keys).isValid(token, for: "session"))
        #expect(!CSRFProtection(serviceKeys: WireServiceKeys.generate()).isValid(token, for: "session"))
    }

    @Test func tokensOfThePreviousKeyStayValidDuringARotation() throws {
        let next = WireServiceKeys.generate()
        let old = CSRFProtection(serviceKeys: keys).token(for: "session")
        let rotating = CSRFProtection(serviceKeys: try WireServiceKeys(current: next.current, previous: keys.current))
        #expect(rotating.isValid(old, for: "session"))
        #expect(rotating.token(for: "session") == CSRFProtection(serviceKeys: next).token(for: "session"))
    }

    @Test func theTokenIsNotTheSessionToken() {
        let token = CSRFProtection(serviceKeys: keys).token(for: "secret-session-token")
        #expect(!token.contains("secret"))
    }
}

@Suite("Web pages: cookies")
struct WebSessionTests {
    @Test func readsTheSessionTokenAmongOtherCookies() {
        let cookies = Cookies(from: ["theme=dark; __Host-tweeter_session=abc.DEF-12_3~; other=1"])
        #expect(WebSession.sessionToken(in: cookies) == "abc.DEF-12_3~")
        #expect(WebSession.sessionToken(in: Cookies(from: ["__Host-tweeter_session=has space"])) == nil)
        #expect(WebSession.sessionToken(in: Cookies(from: ["__Host-tweeter_session="])) == nil)
        #expect(WebSession.sessionToken(in: Cookies(from: ["tweeter_session=abc"])) == nil)
        #expect(WebSession.sessionToken(in: Cookies(from: [])) == nil)
    }

    @Test func visitorValuesAreOursOrIgnored() {
        let fresh = WebSession.newVisitorID()
        #expect(fresh.utf8.count == 64)
        #expect(fresh != WebSession.newVisitorID())
        #expect(WebSession.visitorID(in: Cookies(from: ["__Host-tweeter_visitor=\(fresh)"])) == fresh)
        #expect(WebSession.visitorID(in: Cookies(from: ["__Host-tweeter_visitor=\(fresh.uppercased())"])) == nil)
        #expect(WebSession.visitorID(in: Cookies(from: ["__Host-tweeter_visitor=abc"])) == nil)
    }

    @Test func sessionCookiesAreHttpOnlySecureLaxAndHostOnly() {
        let set = WebSession.setSession("tok").description
        for attribute in ["__Host-tweeter_session=tok", "HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age="] {
            #expect(set.contains(attribute), "\(set)")
        }
        #expect(!set.contains("Domain"))
        #expect(WebSession.clearSession().description.contains("Max-Age=0"))
    }

    @Test func redirectsAfterAFormStayOnThisSite() {
        #expect(APIHandlers.localPath("/@alice?max_id=5") == "/@alice?max_id=5")
        #expect(APIHandlers.localPath("//evil.example/") == nil)
        #expect(APIHandlers.localPath("/\\evil.example/") == nil)
        #expect(APIHandlers.localPath("https://evil.example/") == nil)
        #expect(APIHandlers.localPath("/a b") == nil)
        #expect(APIHandlers.localPath(nil) == nil)
    }
}

@Suite("Web pages: templates")
struct PageTemplatesTests {
    @Test func everyTemplateParsesAndNoneWritesUnescapedValues() throws {
        _ = try PageTemplates()
        for (name, source) in PageTemplates.sources {
            #expect(!source.contains("{{{"), "\(name) writes a value unescaped")
            #expect(!source.contains("{{&"), "\(name) writes a value unescaped")
            #expect(!source.contains("<script>"), "\(name) has an inline script")
            #expect(!source.contains("style=\""), "\(name) has an inline style")
        }
    }

    @Test func errorPagesSayWhatHappenedInWords() {
        let unavailable = APIHandlers.errorContent(.unavailable())
        #expect(unavailable.whale)
        #expect(unavailable.retryAfter == "1 second")
        let limited = APIHandlers.errorContent(.rateLimited(retryAfterSeconds: 7))
        #expect(limited.retryAfter == "7 seconds")
        #expect(!limited.whale)
        #expect(APIHandlers.errorContent(.internal).message.contains("try again"))
        #expect(
            APIHandlers.errorContent(.unprocessable("self_follow", "users cannot follow themselves")).message
                == "Users cannot follow themselves.")
    }
}
