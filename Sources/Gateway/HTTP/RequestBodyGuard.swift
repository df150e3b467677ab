/// The body limit of one HTTP/1.1 connection, as a pure state machine that a thin channel handler drives.
///
/// A request whose body is over the limit (by its `Content-Length`, or by counting a chunked body) is cut short: the
/// handler passes on its head and what arrived so far, then a made-up end, so the responder sees the request end at
/// once and answers 413 without waiting for the rest. Everything the client still sends is dropped, the answer goes
/// out with `Connection: close`, and the connection then closes gently (see ``RequestBodyGuardHandler``). Requests
/// pipelined before the oversized one are answered first, in order.
struct RequestBodyGuard {
    enum InboundAction: Equatable {
        case forward
        /// Pass this part on, then end the request here: it went over the limit.
        case forwardAndEnd
        case drop
    }

    enum ResponseHeadAction: Equatable {
        case forward
        /// This answers the oversized request: add `Connection: close`.
        case forwardClosing
    }

    enum ResponseEndAction: Equatable {
        case forward
        /// The oversized request is answered: close once this is written.
        case forwardThenClose
    }

    private enum State {
        case awaitingHead
        case readingBody(bytes: Int)
        /// A request went over the limit; nothing more is read from this connection.
        case discarding
    }

    let maxBodyBytes: Int
    private var state = State.awaitingHead
    private var requestsStarted = 0
    private var responsesFinished = 0
    /// The number (counting from 1) of the request whose answer ends the connection.
    private var oversizedRequest: Int?

    init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether a request is between its head and its end (the read timeout runs meanwhile).
    var isReadingRequest: Bool {
        if case .readingBody = state { true } else { false }
    }

    /// A request head; `contentLength` as its header says, `nil` when absent or not a number.
    mutating func head(contentLength: Int?) -> InboundAction {
        guard case .awaitingHead = state else { return .drop }
        requestsStarted += 1
        if let contentLength, contentLength > maxBodyBytes {
            return overflow()
        }
        state = .readingBody(bytes: 0)
        return .forward
    }

    mutating func body(byteCount: Int) -> InboundAction {
        guard case .readingBody(let bytes) = state else { return .drop }
        let total = bytes + byteCount
        if total > maxBodyBytes {
            return overflow()
        }
        state = .readingBody(bytes: total)
        return .forward
    }

    mutating func end() -> InboundAction {
        guard case .readingBody = state else { return .drop }
        state = .awaitingHead
        return .forward
    }

    mutating func responseHead() -> ResponseHeadAction {
        oversizedRequest == responsesFinished + 1 ? .forwardClosing : .forward
    }

    mutating func responseEnd() -> ResponseEndAction {
        responsesFinished += 1
        return oversizedRequest == responsesFinished ? .forwardThenClose : .forward
    }

    private mutating func overflow() -> InboundAction {
        state = .discarding
        oversizedRequest = requestsStarted
        return .forwardAndEnd
    }
}
