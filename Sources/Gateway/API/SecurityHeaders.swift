import Hummingbird

/// The headers a browser needs to treat the answers (the API's and the pages') safely.
///
/// - `X-Content-Type-Options: nosniff` on every answer: a browser never guesses a type other than the one sent (our
///   JSON is never run as a script or rendered as HTML).
/// - `Strict-Transport-Security: max-age=31536000` on every answer: after one visit, a browser speaks only HTTPS to
///   this host for a year. (Over `--plain-http`, which is loopback-only, browsers ignore it, as RFC 6797 says.)
/// - `Cache-Control: no-store` on every answer that carries or concerns a credential (a request with
///   `Authorization`, a route that needs it, a sign-in): neither the browser nor a shared cache keeps a copy of a
///   token or of what only the token's owner may see.
enum SecurityHeaders {
    static let contentTypeOptions = HTTPFields.Element.Name("X-Content-Type-Options")!
    static let strictTransportSecurity = HTTPFields.Element.Name("Strict-Transport-Security")!
    /// One year, the value browsers' preload lists expect at least.
    static let hstsValue = "max-age=31536000"

    static let contentSecurityPolicy = HTTPFields.Element.Name("Content-Security-Policy")!
    static let frameOptions = HTTPFields.Element.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!
    /// The web pages' policy: nothing but our own style sheet, script and fetches; no inline script or style, no
    /// plug-ins, no `<base>`, forms only to us, and no framing (clickjacking).
    static let pagePolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// The headers every answer carries, whoever asked and whatever the route.
    static let onEveryAnswer: [(HTTPFields.Element.Name, String)] = [
        (contentTypeOptions, "nosniff"), (strictTransportSecurity, hstsValue),
    ]

    /// Adds the headers every answer carries, `Cache-Control: no-store` when `isPrivate`, and, on an HTML page, the
    /// page headers: ``pagePolicy``, `X-Frame-Options: DENY`, `Referrer-Policy: same-origin`, and `no-store`
    /// (pages carry a CSRF token and what only the viewer may see).
    static func apply(to headers: inout HTTPFields, isPrivate: Bool) {
        for (name, value) in onEveryAnswer {
            headers[name] = value
        }
        let isPage = headers[.contentType]?.hasPrefix("text/html") == true
        if isPrivate || isPage {
            headers[.cacheControl] = "no-store"
        }
        if isPage {
            headers[contentSecurityPolicy] = pagePolicy
            headers[frameOptions] = "DENY"
            headers[referrerPolicy] = "same-origin"
        }
    }
}
