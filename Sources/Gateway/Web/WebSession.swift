import Hummingbird
import Wire

/// The web pages' cookies: the session (the API's own session token, from the same store) and, before sign-in, the
/// random value that the sign-in and sign-up forms' CSRF token is bound to.
///
/// Both use the `__Host-` prefix, so a browser keeps them only when they are `Secure`, have `Path=/` and no `Domain`:
/// no other host (a sibling subdomain, say) can set or shadow them. The session cookie is `HttpOnly` (no script
/// reads it) and `SameSite=Lax` (other sites' forms and subrequests do not carry it; following a link here does).
enum WebSession {
    /// The session token's cookie.
    static let sessionCookie = "__Host-tweeter_session"
    /// The pre-session cookie: what binds the sign-in and sign-up forms' CSRF token before there is a session.
    static let visitorCookie = "__Host-tweeter_visitor"
    /// How long the browser keeps the session cookie: the TweetService's default session lifetime (30 days unused).
    /// The token's own expiry is the TweetService's; a cookie that outlives it is simply refused, then cleared.
    static let sessionMaxAgeSeconds = 30 * 24 * 3600
    /// How long a visitor cookie lives: a day is plenty to fill in a form.
    static let visitorMaxAgeSeconds = 24 * 3600

    /// The session token in the request's cookies, when it looks like one (a `token68`, as the API takes it).
    static func sessionToken(in cookies: Cookies) -> String? {
        cookies[sessionCookie].flatMap { BearerToken.parse("Bearer \($0.value)") }
    }

    /// The visitor value in the request's cookies, when it looks like one of ours (64 lowercase hex digits).
    static func visitorID(in cookies: Cookies) -> String? {
        guard let value = cookies[visitorCookie]?.value, value.utf8.count == 64,
            value.utf8.allSatisfy({ QueryParameters.hexValue($0) != nil && !(0x41...0x46).contains($0) })
        else { return nil }
        return value
    }

    /// A fresh visitor value: 32 random bytes in hex, from the system's CSPRNG.
    static func newVisitorID() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// `Set-Cookie` for a new session.
    static func setSession(_ token: String) -> Cookie {
        cookie(sessionCookie, token, maxAge: sessionMaxAgeSeconds)
    }

    /// `Set-Cookie` that ends the session cookie at once.
    static func clearSession() -> Cookie {
        cookie(sessionCookie, "", maxAge: 0)
    }

    /// `Set-Cookie` for a visitor value.
    static func setVisitor(_ value: String) -> Cookie {
        cookie(visitorCookie, value, maxAge: visitorMaxAgeSeconds)
    }

    private static func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: true, httpOnly: true, sameSite: .lax)
    }
}
