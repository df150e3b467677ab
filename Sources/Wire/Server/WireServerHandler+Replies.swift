import Logging
import Metrics
import NIOCore

extension WireServerHandler {
    /// The frame that answers `header` with the handler's outcome; `nil` when the handler was cancelled (the
    /// deadline has answered, or the connection is going).
    func reply(to header: WireFrameHeader, _ outcome: Result<ByteBuffer, any Error>, method: String) -> WireFrame? {
        switch outcome {
        case .success(let payload):
            guard WireFrameHeader.encodedSize + payload.readableBytes <= configuration.maxFrameLength else {
                // Sent, it would cost the client its connection (and every request on it): an error instead.
                requestLogger(header, method: method).error(
                    "answer over the frame limit", metadata: ["bytes": "\(payload.readableBytes)"])
                return errorFrame(
                    for: header,
                    WireError(
                        .resourceExhausted, reason: "response_too_large", "the answer is larger than a frame may be")
                )
            }
            return WireFrame(
                header: WireFrameHeader(
                    kind: .response, requestID: header.requestID, method: header.method, traceID: header.traceID),
                payload: payload
            )
        case .failure(let error as WireError):
            return errorFrame(for: header, error)
        case .failure(is CancellationError):
            return nil
        case .failure(let error):
            requestLogger(header, method: method).error("handler failed", metadata: ["error": "\(error)"])
            return errorFrame(for: header, WireError(.internal, "internal error"))
        }
    }

    /// The frame that answers `header` with `error` (`requestID` 0: about the connection itself).
    func errorFrame(for header: WireFrameHeader, _ error: WireError) -> WireFrame {
        if error.code != .deadlineExceeded {
            Counter(label: "wire_server_errors_total", dimensions: [("code", "\(error.code)")]).increment()
        }
        return WireFrame(
            header: WireFrameHeader(
                kind: .error, requestID: header.requestID, method: header.method, traceID: header.traceID),
            payload: WireErrorPayload(error).payload()
        )
    }

    private func requestLogger(_ header: WireFrameHeader, method: String) -> Logger {
        var logger = logger
        logger[metadataKey: "trace_id"] = "\(header.traceID)"
        logger[metadataKey: "method"] = "\(method)"
        return logger
    }
}
