import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

extension EmbeddedChannel {
    /// Reads one whole answer a handler wrote and flushed: head, body bytes, end; `nil` when none was.
    func readHTTPAnswer() throws -> (HTTPResponseHead, String)? {
        guard case .head(let head) = try readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        var body = ""
        while let part = try readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .body(.byteBuffer(let bytes)): body += String(buffer: bytes)
            case .body: Issue.record("a body that is not a byte buffer")
            case .end: return (head, body)
            case .head: Issue.record("a second head before the end")
            }
        }
        Issue.record("no end")
        return nil
    }
}
