import Hummingbird
import NIOCore
import NIOHTTP1
import Wire

/// An answer that needs neither a service nor a suspension: the same bytes every time (`GET /healthz`).
struct InlineAnswer: Sendable {
    /// The route template it answers, as metrics label it.
    let path: String
    let status: HTTPResponseStatus
    let contentType: String
    let body: ByteBuffer

    /// `GET /healthz`: the process is up and its event loops answer. The same answer as the route of that name.
    static let health = InlineAnswer(
        path: "/healthz", status: .ok, contentType: "application/json", body: StatusJSON.healthy.jsonBuffer)
}

/// A route whose requests the ``InlineAnswerHandler`` reads whole, head and body, below Hummingbird, and answers with
/// what ``respond`` completes with: for a route whose rate is a target (`POST /api/v1/tweets`,
/// `GET /api/v1/timelines/home`), the same checks and answer as through Hummingbird, without its per-request machinery
/// (docs/gateway.md, "Answered on the event loop").
struct InlineRoute: Sendable {
    let method: HTTPMethod
    /// The exact path (no captures); a query is allowed and handed on in the head.
    let path: String
    /// Answers one request. The future must succeed on the executor's loop: a failed one closes the connection.
    let respond: @Sendable (InlineRequest, EventLoopTaskExecutor) -> EventLoopFuture<InlineResponse>
}

/// A request an ``InlineRoute`` answers: its head, its whole body (at most the Gateway's body limit) and its peer.
struct InlineRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var remoteAddress: SocketAddress?
}

/// An ``InlineRoute``'s answer; the handler adds `Content-Length` and `Date`.
struct InlineResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer
}
