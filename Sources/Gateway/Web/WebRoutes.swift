import Hummingbird
import Wire

import struct Foundation.Date

// The web pages' routes and what every page handler shares: rendering with the session's view, reading a form with
// its CSRF check, and redirecting after a POST.
extension APIHandlers {
    /// How many tweets (or people) a page shows.
    static let pageSize: Int64 = 20

    /// The web pages, added after the API: literal paths before the `/@{username}` templates.
    static func addPageRoutes(to routes: inout RouteTable<Endpoint>) {
        func add(
            _ method: HTTPRequest.Method, _ template: String, _ access: Endpoint.Access = .page,
            _ handle: @escaping @Sendable (APIHandlers, APIRequest) async throws -> Response
        ) {
            routes.add(method, template, Endpoint(access: access, handle: handle))
        }
        add(.get, "/") { try await $0.homePage($1) }
        add(.get, "/home/new-count") { try await $0.newTweetsCount($1) }
        add(.get, "/signup") { $0.accountPage($1, .signUp) }
        add(.post, "/signup") { try await $0.submitSignUp($1) }
        add(.get, "/signin") { $0.accountPage($1, .signIn) }
        add(.post, "/signin") { try await $0.submitSignIn($1) }
        add(.post, "/signout") { try await $0.submitSignOut($1) }
        add(.post, "/tweets") { try await $0.submitTweet($1) }
        add(.get, "/tweets/{id}") { try await $0.tweetPage($1) }
        add(.post, "/tweets/{id}/delete") { try await $0.submitDelete($1) }
        add(.get, "/find") { try await $0.findPage($1) }
        add(.get, "/@{username}") { try await $0.profilePage($1) }
        add(.get, "/@{username}/followers") { try await $0.peoplePage($1, followers: true) }
        add(.get, "/@{username}/following") { try await $0.peoplePage($1, followers: false) }
        add(.post, "/@{username}/follow") { try await $0.submitFollow($1, following: true) }
        add(.post, "/@{username}/unfollow") { try await $0.submitFollow($1, following: false) }
        for asset in StaticAsset.all {
            add(.get, asset.path, .anonymous) { _, _ in asset.response() }
        }
    }

    /// The wall clock in Unix milliseconds, for relative times.
    static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Renders `content` through `template` for the request's viewer, with the cookies the visit needs: a visitor
    /// cookie for a first visit (the forms' CSRF token is bound to it), and the end of a session cookie that no
    /// longer signs anyone in.
    func render<Content>(
        _ template: String, _ request: APIRequest, title: String, status: HTTPResponse.Status = .ok,
        returnPath: String? = nil, pollsNewTweets: Bool = false, _ content: Content
    ) -> Response {
        var cookies: [Cookie] = []
        if request.caller == nil, WebSession.sessionToken(in: request.cookies) != nil {
            cookies.append(WebSession.clearSession())
        }
        let binding: String
        if let token = request.token, request.caller != nil {
            binding = token
        } else if let visitor = WebSession.visitorID(in: request.cookies) {
            binding = visitor
        } else {
            binding = WebSession.newVisitorID()
            cookies.append(WebSession.setVisitor(binding))
        }
        let page = Page(
            title: title, viewer: request.caller.map { UserView($0, nowMillis: Self.nowMillis()) },
            csrf: site.csrf.token(for: binding), returnPath: returnPath ?? request.path,
            pollsNewTweets: pollsNewTweets, content: content)
        var response = site.templates.response(template, page, status: status)
        for cookie in cookies {
            response.setCookie(cookie)
        }
        return response
    }

    /// The fields of a submitted form, once its CSRF token is found good.
    ///
    /// - Throws: ``APIError`` 403 `csrf_failed` when the token is missing or is not this session's (or, before
    ///   sign-in, this browser's visitor cookie's): the form was forged, or is older than the session.
    func submittedForm(_ request: APIRequest) throws(APIError) -> QueryParameters {
        let form = QueryParameters(String(buffer: request.body)[...])
        let binding = request.caller != nil ? request.token : WebSession.visitorID(in: request.cookies)
        guard site.csrf.isValid(form[CSRFProtection.fieldName], for: binding) else {
            throw APIError(
                .forbidden, "csrf_failed",
                "We could not accept this form: it was not sent from a page of ours, or it is older than your session. Go back, reload the page and try again."
            )
        }
        return form
    }

    /// 303 See Other to `path`: after a POST, the browser loads the next page with a GET (reloading repeats no
    /// form).
    func redirect(to path: String, setting cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: path])
        for cookie in cookies {
            response.setCookie(cookie)
        }
        return response
    }

    /// The paging parameters of a page: the API's, with the pages' own default size.
    func pageParameters(_ request: APIRequest) throws(APIError) -> PageParameters {
        var parameters = try PageParameters.parse(request.query)
        if request.query["limit"] == nil {
            parameters.limit = Self.pageSize
        }
        return parameters
    }
}
