import Hummingbird

/// The headers a browser needs to treat the API's answers safely.
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

    /// Adds the headers every answer carries, and `Cache-Control: no-store` when `isPrivate`.
    static func apply(to headers: inout HTTPFields, isPrivate: Bool) {
        headers[contentTypeOptions] = "nosniff"
        headers[strictTransportSecurity] = hstsValue
        if isPrivate {
            headers[.cacheControl] = "no-store"
        }
    }
}
