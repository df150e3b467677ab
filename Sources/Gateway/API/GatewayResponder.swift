import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Wire

/// What Hummingbird hands the Gateway with each request: its logger and the client's address.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The peer of the connection; `nil` in tests without a socket.
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Answers every request of the public API, in the order of checks the API promises.
///
/// 1. A body over the limit is 413, whatever the route.
/// 2. Routing: 404 for an unknown path, 405 with `Allow` for a known path and another method.
/// 3. Rate limiting: 429 with `Retry-After`, charged to a token known to be valid, else to the client's address.
/// 4. Authentication on routes that need it: 401.
/// 5. The route's own checks, in the order 400, 404, 403, 422, then its Wire calls (503 when a service is down).
///
/// Every answer carries `X-Request-Id`: the Wire trace id under which each service logged its part of the request.
///
/// Requests for an ``InlineRoute`` (``inlineRoute(_:_:logger:)``) come read whole from the ``InlineAnswerHandler``,
/// past steps 1 and 2, and are answered with the same admission, handler, error mapping, headers and metrics.
struct GatewayResponder: HTTPResponder {
    typealias Context = GatewayRequestContext

    /// `X-Request-Id` (HTTPTypes' `HTTPField.Name`, reached through `HTTPFields`, which Hummingbird exports).
    static let requestIDField = HTTPFields.Element.Name("X-Request-Id")!

    let routes: RouteTable<Endpoint>
    let handlers: APIHandlers
    let maxBodyBytes: Int
    let rateLimiter: RateLimiter

    private var metrics: GatewayMetrics { handlers.metrics }
    private var tokenCache: TokenCache { handlers.tokenCache }
    private var upstream: UpstreamServices { handlers.upstream }

    func respond(to request: Request, context: Context) async throws -> Response {
        await traced(
            method: request.method, hasAuthorization: request.headers[.authorization] != nil, logger: context.logger
        ) { logger in
            await self.answer(request, context: context, logger: logger)
        }
    }

    /// The ``InlineRoute`` for the route table's `method` and `path`: the same endpoint, its requests read and answered
    /// below Hummingbird with the checks, headers, metrics and log lines of ``respond(to:context:)``, in a task that
    /// prefers the connection's event loop. The endpoint must answer JSON (``Endpoint/answerJSON``).
    func inlineRoute(_ method: HTTPRequest.Method, _ path: String, logger: Logger) -> InlineRoute {
        guard case .found(let endpoint, _, let template) = routes.resolve(method, path: path[...]),
            let answerJSON = endpoint.answerJSON
        else {
            preconditionFailure("\(method) \(path) is no route that answers JSON")
        }
        return InlineRoute(method: HTTPMethod(rawValue: method.rawValue), path: path) { request, executor in
            let promise = executor.eventLoop.makePromise(of: InlineResponse.self)
            Task(executorPreference: executor) {
                // As Hummingbird's `headers[.authorization]` reads it: several fields joined (which no token parses).
                let fields = request.head.headers["authorization"]
                let authorization = fields.isEmpty ? nil : fields.joined(separator: ", ")
                let answer = await self.traced(
                    method: method, hasAuthorization: authorization != nil, logger: logger
                ) { logger in
                    await self.answer(
                        request, authorization: authorization, endpoint: endpoint, answerJSON: answerJSON,
                        template: template, logger: logger)
                }
                var headers = HTTPHeaders()
                for field in answer.headers {
                    headers.add(name: field.name.rawName, value: field.value)
                }
                promise.succeed(
                    InlineResponse(
                        status: HTTPResponseStatus(
                            statusCode: answer.status.code, reasonPhrase: answer.status.reasonPhrase),
                        headers: headers, body: answer.body)
                )
            }
            return promise.futureResult
        }
    }

    /// An ``InlineRoute``'s answer: admission and the endpoint's JSON, or the error as JSON. Its body is within the
    /// limit already (the ``InlineAnswerHandler`` takes no other).
    private func answer(
        _ request: InlineRequest, authorization: String?, endpoint: Endpoint,
        answerJSON: @Sendable (APIHandlers, APIRequest) async throws -> JSONAnswer, template: RouteTemplate,
        logger: Logger
    ) async -> (InlineAnswerParts, route: String, isPrivate: Bool) {
        let route = template.description
        do {
            let (caller, token) = try await admit(
                authorization: authorization, cookies: Cookies(from: []),
                remoteAddress: request.remoteAddress, to: endpoint)
            let uri = request.head.uri
            let apiRequest = APIRequest(
                captures: [], query: QueryParameters(Self.query(ofTarget: uri)),
                body: request.body, caller: caller, token: token,
                clientAddress: ClientAddress.key(request.remoteAddress),
                path: route)
            let json = try await answerJSON(handlers, apiRequest)
            return (InlineAnswerParts(status: json.status, body: json.body), route, endpoint.isPrivate)
        } catch {
            let apiError = apiError(for: error, route: route, logger: logger)
            return (
                InlineAnswerParts(status: apiError.status, headers: apiError.headerFields, body: apiError.jsonBody),
                route, endpoint.isPrivate
            )
        }
    }

    /// A request target's query as Hummingbird's `URI.query` reads it: after the first `?`, up to a `#`.
    static func query(ofTarget target: String) -> Substring? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        let query = target[target.index(after: mark)...]
        return query.firstIndex(of: "#").map { query[..<$0] } ?? query
    }

    /// Runs `answer` under a fresh trace id (the Wire calls it makes carry it, its log lines name it), then adds
    /// `X-Request-Id` and the security headers to its response, and counts and logs the request.
    private func traced<Answer: TracedAnswer>(
        method: HTTPRequest.Method, hasAuthorization: Bool, logger: Logger,
        _ answer: (Logger) async -> (Answer, route: String, isPrivate: Bool)
    ) async -> Answer {
        let start = ContinuousClock.now
        let traceID = WireTraceID.random()
        var logger = logger
        logger[metadataKey: "trace_id"] = "\(traceID)"
        metrics.requestStarted()
        var (response, route, isPrivate) = await WireTraceID.$current.withValue(traceID) { await answer(logger) }
        response.headers[Self.requestIDField] = traceID.description
        SecurityHeaders.apply(to: &response.headers, isPrivate: isPrivate || hasAuthorization)
        let duration = ContinuousClock.now - start
        metrics.requestFinished(route: route, method: method.rawValue, status: response.status.code, duration: duration)
        logger.debug(
            "answered",
            metadata: [
                "method": "\(method)", "route": "\(route)", "status": "\(response.status.code)",
                "duration": "\(duration)",
            ]
        )
        return response
    }

    /// The response, the route template it was answered under (`unmatched` when there was none), and whether the
    /// route's answers are private (``Endpoint/isPrivate``).
    ///
    /// Errors are answered as the API's JSON, or as a page for people under the web pages' paths
    /// (``WebSite/servesPages(_:)``).
    private func answer(_ request: Request, context: Context, logger: Logger) async -> (Response, String, Bool) {
        var route = "unmatched"
        var isPrivate = false
        let forPeople = WebSite.servesPages(request.uri.path)
        do {
            let body = try await readBody(request)
            switch routes.resolve(request.method, path: request.uri.path[...]) {
            case .notFound:
                throw APIError.notFound("no such route")
            case .methodNotAllowed(let allowed, let template):
                route = template.description
                throw APIError.methodNotAllowed(allowed: allowed)
            case .found(let endpoint, let captures, let template):
                route = template.description
                isPrivate = endpoint.isPrivate
                let cookies = Cookies(from: request.headers[values: .cookie])
                let (caller, token) = try await admit(
                    authorization: request.headers[.authorization], cookies: cookies,
                    remoteAddress: context.remoteAddress, to: endpoint)
                let apiRequest = APIRequest(
                    captures: captures, query: QueryParameters(request.uri.query?[...]), body: body, caller: caller,
                    token: token, clientAddress: ClientAddress.key(context.remoteAddress), path: request.uri.path,
                    cookies: cookies
                )
                return (try await endpoint.handle(handlers, apiRequest), route, isPrivate)
            }
        } catch {
            return (answer(apiError(for: error, route: route, logger: logger), forPeople: forPeople), route, isPrivate)
        }
    }

    /// What a route's failure tells the client: an ``APIError`` as it is, a service's ``WireError`` as the API reads
    /// it (logged when it is a 5xx), anything else a 500 (logged).
    private func apiError(for error: any Error, route: String, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as WireError:
            let apiError = APIError(error)
            if apiError.status.code >= 500 {
                logger.warning("service call failed", metadata: ["route": "\(route)", "error": "\(error)"])
            }
            return apiError
        default:
            logger.error("unexpected error", metadata: ["route": "\(route)", "error": "\(error)"])
            return .internal
        }
    }

    private func answer(_ error: APIError, forPeople: Bool) -> Response {
        forPeople ? handlers.errorPage(error) : error.response()
    }

    /// The whole body, or 413 when it is over the limit (told by `Content-Length` before reading anything, or found
    /// while reading a chunked body).
    private func readBody(_ request: Request) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodyBytes {
            throw APIError.payloadTooLarge(limit: maxBodyBytes)
        }
        do {
            return try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit: maxBodyBytes)
        } catch {
            throw APIError.badRequest("the request body could not be read")
        }
    }

    /// Rate limits and, where the route needs it, authenticates; returns the caller and their token (a page's
    /// visitor, or a route that needs no token, has neither).
    private func admit(
        authorization: String?, cookies: Cookies, remoteAddress: SocketAddress?, to endpoint: Endpoint
    ) async throws -> (UserRecord?, String?) {
        let token: String?
        switch endpoint.access {
        case .operational:
            return (nil, nil)
        case .page:
            token = WebSession.sessionToken(in: cookies)
        case .anonymous, .authenticated:
            token = BearerToken.parse(authorization)
        }
        let cachedCaller = token.flatMap { tokenCache.user(for: $0) }
        let key: RateLimitKey =
            if let token, cachedCaller != nil { .token(token) } else {
                .address(ClientAddress.key(remoteAddress))
            }
        if case .limited(let retryAfter) = rateLimiter.admit(key) {
            throw APIError.rateLimited(retryAfterSeconds: retryAfter)
        }
        switch endpoint.access {
        case .operational, .anonymous:
            return (nil, nil)
        case .page:
            guard let token else { return (nil, nil) }
            if let cachedCaller {
                return (cachedCaller, token)
            }
            do {
                return (try await resolve(token), token)
            } catch let error as APIError where error.status == .unauthorized {
                return (nil, nil)  // a revoked or expired session: a visitor now (the page clears the cookie)
            }
        case .authenticated:
            guard let token else {
                throw APIError.unauthorized()
            }
            if let cachedCaller {
                return (cachedCaller, token)
            }
            return (try await resolve(token), token)
        }
    }

    /// Asks the TweetService whose token this is, and remembers the answer for a few seconds.
    private func resolve(_ token: String) async throws -> UserRecord {
        do {
            let user = try await upstream.call(.tweets, ResolveToken.self, Name(token), idempotent: true)
            tokenCache.store(user, for: token)
            return user
        } catch let error where [.unauthenticated, .notFound, .invalidArgument].contains(error.code) {
            throw APIError.unauthorized("the bearer token is unknown or revoked")
        }
    }
}

/// A response ``GatewayResponder`` finishes the same way whichever path it came by: Hummingbird's `Response`, or the
/// parts of an ``InlineResponse``.
protocol TracedAnswer {
    var status: HTTPResponse.Status { get }
    var headers: HTTPFields { get set }
}

extension Response: TracedAnswer {}

/// An ``InlineRoute``'s answer before the responder adds its headers: always JSON.
struct InlineAnswerParts: TracedAnswer {
    var status: HTTPResponse.Status
    var headers: HTTPFields = [:]
    var body: ByteBuffer

    init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.headers[.contentType] = "application/json"
        self.body = body
    }
}
