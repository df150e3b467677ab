import Hummingbird
import Wire

/// An error as the public API reports it: an HTTP status, a stable snake_case code, and a message for people.
///
/// The body is always `{"error": {"code": ..., "message": ...}}`. Messages never carry internals (no Wire reasons
/// beyond the documented codes, no addresses, no stack traces): whatever went wrong inside is in the log, under the
/// request's trace id.
struct APIError: Error, Sendable, Hashable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    /// Sent as `Retry-After` (whole seconds).
    var retryAfterSeconds: Int?
    /// Sent as `Allow` with a 405.
    var allowedMethods: [HTTPRequest.Method] = []

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// 400: the body is not a JSON object, a field has the wrong JSON type, or a query value is not a decimal integer.
    static func badRequest(_ message: String) -> APIError {
        APIError(.badRequest, "bad_request", message)
    }

    /// 401: no valid `Authorization: Bearer` token, or a failed sign-in.
    static func unauthorized(_ message: String = "a valid bearer token is required") -> APIError {
        APIError(.unauthorized, "unauthorized", message)
    }

    /// 403: authenticated, but not allowed.
    static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, "forbidden", message)
    }

    /// 404: no such route or resource.
    static func notFound(_ message: String = "no such resource") -> APIError {
        APIError(.notFound, "not_found", message)
    }

    /// 405, with the methods the route does serve.
    static func methodNotAllowed(allowed: [HTTPRequest.Method]) -> APIError {
        var error = APIError(.methodNotAllowed, "method_not_allowed", "this resource does not support that method")
        error.allowedMethods = allowed
        return error
    }

    /// 409: a unique thing exists already, such as `username_taken`.
    static func conflict(_ code: String, _ message: String) -> APIError {
        APIError(.conflict, code, message)
    }

    /// 413: a body over the limit.
    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, "payload_too_large", "the request body is larger than \(limit) bytes")
    }

    /// 422: a field fails validation; `code` is `invalid_<field>` or a rule such as `self_follow`.
    static func unprocessable(_ code: String, _ message: String) -> APIError {
        APIError(.unprocessableContent, code, message)
    }

    /// 422 `invalid_<field>` for a required field that is missing.
    static func missingField(_ field: String) -> APIError {
        unprocessable("invalid_\(field)", "\(field) is required")
    }

    /// 429, with how long to wait.
    static func rateLimited(retryAfterSeconds: Int) -> APIError {
        APIError(
            .tooManyRequests, "rate_limited", "too many requests; retry later", retryAfterSeconds: retryAfterSeconds)
    }

    /// 503: a service behind the Gateway is down, overloaded or too slow.
    static func unavailable(_ message: String = "a service is unavailable; retry later") -> APIError {
        APIError(.serviceUnavailable, "unavailable", message, retryAfterSeconds: 1)
    }

    /// 500 for what should never happen; the detail goes to the log only.
    static let `internal` = APIError(.internalServerError, "internal", "internal error")

    /// The error as its JSON body, `{"error": {"code", "message"}}`.
    var jsonBody: ByteBuffer {
        ErrorJSON(code: code, message: message).jsonBuffer
    }

    /// The response that carries this error.
    func response() -> Response {
        var response = Response.json(body: jsonBody, status: status)
        response.headers.append(contentsOf: headerFields)
        return response
    }

    /// The headers that go with the error: `Retry-After`, `Allow` with a 405, `WWW-Authenticate` with a 401.
    var headerFields: HTTPFields {
        var fields = HTTPFields()
        if let retryAfterSeconds {
            fields[.retryAfter] = String(retryAfterSeconds)
        }
        if !allowedMethods.isEmpty {
            fields[.allow] = allowedMethods.map(\.rawValue).joined(separator: ", ")
        }
        if status == .unauthorized {
            fields[.wwwAuthenticate] = "Bearer"
        }
        return fields
    }
}

extension APIError {
    /// The validation reasons the services give that are part of the public API, each a 422 code as it stands.
    static let publicValidationCodes: Set<String> = [
        "invalid_username", "invalid_password", "invalid_text", "invalid_in_reply_to_id", "invalid_limit",
        "self_follow",
    ]

    /// What a service's ``WireError`` means to an API client, where the route has no more specific reading.
    ///
    /// `not_found` is 404, `unauthenticated` 401, `permission_denied` 403, `already_exists` 409. `invalid_argument` is
    /// 422 with the service's reason as the code when that reason is one of ``publicValidationCodes`` (the services
    /// write those messages for users); any other `invalid_argument` (a message Wire could not decode, say) is a fault
    /// of ours, so 500. Everything that says "try again" (`unavailable`, `deadline_exceeded`, `resource_exhausted`) is
    /// 503 `unavailable`. `internal` and codes this build does not know are 500 `internal`; the detail goes only to
    /// the log, because it was written for operators.
    init(_ error: WireError) {
        switch error.code {
        case .notFound:
            self = .notFound()
        case .invalidArgument where Self.publicValidationCodes.contains(error.reason):
            self = .unprocessable(error.reason, error.message)
        case .unauthenticated:
            self = .unauthorized()
        case .permissionDenied:
            self = .forbidden("you are not allowed to do that")
        case .alreadyExists where error.reason == "username_taken":
            self = .conflict("username_taken", "that username is taken")
        case .alreadyExists:
            self = .conflict("already_exists", "that already exists")
        case .unavailable, .deadlineExceeded, .resourceExhausted:
            self = .unavailable()
        default:
            self = .internal
        }
    }
}
