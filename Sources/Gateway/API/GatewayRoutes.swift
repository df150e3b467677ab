import Hummingbird
import NIOCore
import Wire

/// What a route serves and who may call it.
struct Endpoint: Sendable {
    enum Access: Sendable {
        /// Anyone; rate limited by address (or by token, when a valid one is sent anyway).
        case anonymous
        /// A valid bearer token is required (401 otherwise); rate limited by token.
        case authenticated
        /// Health and metrics: neither authenticated nor rate limited, so that probes never see a 429.
        case operational
        /// A web page or form: the session comes from the session cookie when there is a valid one (a visitor
        /// otherwise, never a 401); rate limited by session or address (``WebSession``).
        case page
    }

    let access: Access
    /// Whether the answer hands out a credential (sign-in), besides what authenticated routes answer.
    var issuesCredentials = false
    let handle: @Sendable (APIHandlers, APIRequest) async throws -> Response
    /// The same handler, answering with a JSON document written already: set on routes that may be served below
    /// Hummingbird (``GatewayResponder/inlineRoute(_:_:logger:)``), where ``handle`` wraps it.
    var answerJSON: (@Sendable (APIHandlers, APIRequest) async throws -> JSONAnswer)?

    init(
        access: Access, issuesCredentials: Bool = false,
        handle: @escaping @Sendable (APIHandlers, APIRequest) async throws -> Response
    ) {
        self.access = access
        self.issuesCredentials = issuesCredentials
        self.handle = handle
    }

    /// An endpoint whose handler answers JSON: served through Hummingbird, and where the Gateway says so, below it.
    init(access: Access, answerJSON: @escaping @Sendable (APIHandlers, APIRequest) async throws -> JSONAnswer) {
        self.access = access
        self.answerJSON = answerJSON
        handle = { handlers, request in .json(try await answerJSON(handlers, request)) }
    }

    /// Whether answers must not be stored by any cache (`Cache-Control: no-store`): they carry a token or what only
    /// a token's owner may see (a page, a redirect that sets the session cookie, the viewer's new-tweet count).
    var isPrivate: Bool {
        switch access {
        case .authenticated, .page: true
        case .anonymous, .operational: issuesCredentials
        }
    }
}

/// A route's answer as a JSON document written already.
struct JSONAnswer: Sendable {
    var status: HTTPResponse.Status
    var body: ByteBuffer
}

/// A request as a route handler sees it, once routing, rate limiting, body reading and authentication are done.
struct APIRequest: Sendable {
    /// The `{...}` segments of the route template, in order, still percent-encoded.
    var captures: [Substring]
    var query: QueryParameters
    /// The whole body (at most the configured limit).
    var body: ByteBuffer
    /// The token's owner on authenticated routes, and on pages with a valid session cookie; `nil` elsewhere.
    var caller: UserRecord?
    /// The bearer token (or, on pages, the session cookie's token) that authenticated ``caller``; `nil` where there
    /// is none.
    var token: String?
    /// The client's address as the limits count it (``ClientAddress``).
    var clientAddress: String
    /// The request's path, without the query.
    var path: String = "/"
    /// The request's cookies (the web pages' session and visitor cookies).
    var cookies = Cookies(from: [])

    /// The `index`th capture as an id.
    ///
    /// - Throws: ``APIError`` 404 when it is not a decimal id: no resource has such a name.
    func pathID(_ index: Int = 0) throws(APIError) -> Int64 {
        guard index < captures.count, let id = PageParameters.parseID(captures[index]) else {
            throw .notFound()
        }
        return id
    }

    /// The caller of an authenticated route.
    func authenticatedCaller() throws(APIError) -> UserRecord {
        guard let caller else { throw .unauthorized() }
        return caller
    }
}

/// The route handlers' shared dependencies. Each resource adds its handlers in its own file.
struct APIHandlers: Sendable {
    let upstream: UpstreamServices
    let metrics: GatewayMetrics
    /// Confirmed tokens; sign-out forgets its token here at once.
    let tokenCache: TokenCache
    /// Home pages read a moment ago (``HomePageCache``).
    let homePages: HomePageCache
    /// Limits on the routes that hash a password.
    let signInGuard: SignInGuard
    /// The web pages' templates and form protection.
    let site: WebSite

    /// The whole public API (what docs/openapi.yaml documents).
    static func routeTable() -> RouteTable<Endpoint> {
        var routes = RouteTable<Endpoint>()
        addAPIRoutes(to: &routes)
        return routes
    }

    /// Everything the Gateway serves: the API, then the web pages (``addPageRoutes(to:)``).
    static func siteRouteTable() -> RouteTable<Endpoint> {
        var routes = RouteTable<Endpoint>()
        addAPIRoutes(to: &routes)
        addPageRoutes(to: &routes)
        return routes
    }

    private static func addAPIRoutes(to routes: inout RouteTable<Endpoint>) {
        func add(
            _ method: HTTPRequest.Method, _ template: String, _ access: Endpoint.Access,
            issuesCredentials: Bool = false,
            _ handle: @escaping @Sendable (APIHandlers, APIRequest) async throws -> Response
        ) {
            routes.add(
                method, template, Endpoint(access: access, issuesCredentials: issuesCredentials, handle: handle))
        }
        add(.post, "/api/v1/users", .anonymous) { try await $0.createUser($1) }
        add(.get, "/api/v1/users", .anonymous) { try await $0.findUser($1) }
        add(.get, "/api/v1/users/{id}", .anonymous) { try await $0.user($1) }
        add(.post, "/api/v1/sessions", .anonymous, issuesCredentials: true) { try await $0.signIn($1) }
        add(.delete, "/api/v1/sessions/current", .authenticated) { try await $0.signOut($1) }
        add(.post, "/api/v1/users/{id}/follow", .authenticated) { try await $0.follow($1, following: true) }
        add(.delete, "/api/v1/users/{id}/follow", .authenticated) { try await $0.follow($1, following: false) }
        add(.get, "/api/v1/users/{id}/followers", .anonymous) { try await $0.relationships($1, followers: true) }
        add(.get, "/api/v1/users/{id}/following", .anonymous) { try await $0.relationships($1, followers: false) }
        add(.get, "/api/v1/users/{id}/tweets", .anonymous) { try await $0.userTweets($1) }
        routes.add(.post, "/api/v1/tweets", Endpoint(access: .authenticated) { try await $0.createTweet($1) })
        add(.get, "/api/v1/tweets/{id}", .anonymous) { try await $0.tweet($1) }
        add(.delete, "/api/v1/tweets/{id}", .authenticated) { try await $0.deleteTweet($1) }
        add(.get, "/api/v1/timelines/public", .anonymous) { try await $0.publicTimeline($1) }
        routes.add(
            .get, "/api/v1/timelines/home", Endpoint(access: .authenticated) { try await $0.homeTimeline($1) })
        add(.get, "/healthz", .operational) { _, _ in .json(StatusJSON.healthy) }
        add(.get, "/readyz", .operational) { handlers, _ in await handlers.readiness() }
        add(.get, "/metrics", .operational) { handlers, _ in handlers.metricsExposition() }
    }

    /// The user with `id`.
    ///
    /// - Throws: ``APIError`` 404 when there is none, 503 when the TweetService does not answer.
    func existingUser(_ id: Int64) async throws -> UserRecord {
        let page = try await upstream.call(.tweets, GetUsers.self, IDList(ids: [id]), idempotent: true)
        guard let user = page.users.first(where: { $0.id == id }) else {
            throw APIError.notFound("no user \(id)")
        }
        return user
    }

    /// The page's limit for a list that belongs to `userID`.
    ///
    /// - Throws: ``APIError`` 404 for an unknown user, which the API ranks before 422 `invalid_limit`; the user is
    ///   only looked up here when the limit is out of range (otherwise the caller asks only when its page comes back empty).
    func validLimit(_ parameters: PageParameters, ofUser userID: Int64) async throws -> UInt32 {
        do {
            return try parameters.validLimit()
        } catch {
            _ = try await existingUser(userID)
            throw error
        }
    }
}
