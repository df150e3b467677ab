import Hummingbird

// Errors as pages for people: what happened in words, when to retry, the way home; never a stack trace or an
// internal message (the API's messages are already written for users; 500s carry only "internal error").
extension APIHandlers {
    /// The page for `error`, with its status and its `Retry-After`/`Allow` headers. A visitor's page: the
    /// responder answers errors before (or without) knowing who asks.
    func errorPage(_ error: APIError) -> Response {
        let content = Self.errorContent(error)
        let page = Page(
            title: content.heading, viewer: nil, csrf: "", returnPath: "/", content: content)
        var response = site.templates.response("error", page, status: error.status)
        if let retryAfterSeconds = error.retryAfterSeconds {
            response.headers[.retryAfter] = String(retryAfterSeconds)
        }
        if !error.allowedMethods.isEmpty {
            response.headers[.allow] = error.allowedMethods.map(\.rawValue).joined(separator: ", ")
        }
        return response
    }

    /// What the error page says for `error`.
    static func errorContent(_ error: APIError) -> ErrorContent {
        let retry = error.retryAfterSeconds
        switch error.status.code {
        case 404:
            return ErrorContent(
                heading: "Page not found",
                message: "There is nothing here. The user or the tweet may have been deleted, or the address mistyped.",
                retryAfterSeconds: nil, whale: false)
        case 429:
            return ErrorContent(
                heading: "Slow down", message: "You sent a lot of requests in a short time.",
                retryAfterSeconds: retry ?? 1, whale: false)
        case 503:
            return ErrorContent(
                heading: "Tweeter is over capacity",
                message: "Part of Tweeter is not answering right now.",
                retryAfterSeconds: retry ?? 1, whale: true)
        case 403 where error.code == "csrf_failed":
            return ErrorContent(
                heading: "This form has expired", message: error.message, retryAfterSeconds: nil, whale: false)
        case 413:
            return ErrorContent(
                heading: "Too much at once", message: "That was more than this page accepts.",
                retryAfterSeconds: nil, whale: false)
        case 405:
            return ErrorContent(
                heading: "Not here", message: "This address does not take that kind of request.",
                retryAfterSeconds: nil, whale: false)
        case 500...:
            return ErrorContent(
                heading: "Something went wrong", message: "We could not finish that. Please try again in a moment.",
                retryAfterSeconds: retry, whale: false)
        default:
            return ErrorContent(
                heading: "That did not work", message: Self.sentence(error.message), retryAfterSeconds: retry,
                whale: false)
        }
    }

    /// An API message (`"users cannot follow themselves"`) as a sentence.
    static func sentence(_ message: String) -> String {
        guard let first = message.first else { return message }
        let capitalized = first.uppercased() + message.dropFirst()
        return capitalized.hasSuffix(".") ? capitalized : capitalized + "."
    }
}
