import Testing

@testable import Gateway

@Suite("Request body guard")
struct RequestBodyGuardTests {
    @Test func bodiesUpToTheLimitPassThrough() {
        var bodyGuard = RequestBodyGuard(maxBodyBytes: 10)
        #expect(bodyGuard.head(contentLength: 10) == .forward)
        #expect(bodyGuard.isReadingRequest)
        #expect(bodyGuard.body(byteCount: 6) == .forward)
        #expect(bodyGuard.body(byteCount: 4) == .forward)
        #expect(bodyGuard.end() == .forward)
        #expect(!bodyGuard.isReadingRequest)
        #expect(bodyGuard.responseHead() == .forward)
        #expect(bodyGuard.responseEnd() == .forward)
        #expect(bodyGuard.head(contentLength: nil) == .forward)
        #expect(bodyGuard.end() == .forward)
    }

    @Test func aContentLengthOverTheLimitEndsTheRequestAtItsHead() {
        var bodyGuard = RequestBodyGuard(maxBodyBytes: 10)
        #expect(bodyGuard.head(contentLength: 11) == .forwardAndEnd)
        #expect(!bodyGuard.isReadingRequest)
        #expect(bodyGuard.body(byteCount: 11) == .drop)
        #expect(bodyGuard.end() == .drop)
        #expect(bodyGuard.head(contentLength: nil) == .drop)
        #expect(bodyGuard.responseHead() == .forwardClosing)
        #expect(bodyGuard.responseEnd() == .forwardThenClose)
    }

    @Test func aChunkedBodyIsCutWhereItCrossesTheLimit() {
        var bodyGuard = RequestBodyGuard(maxBodyBytes: 10)
        #expect(bodyGuard.head(contentLength: nil) == .forward)
        #expect(bodyGuard.body(byteCount: 8) == .forward)
        #expect(bodyGuard.body(byteCount: 3) == .forwardAndEnd)
        #expect(bodyGuard.body(byteCount: 1000) == .drop)
        #expect(bodyGuard.end() == .drop)
        #expect(bodyGuard.responseHead() == .forwardClosing)
        #expect(bodyGuard.responseEnd() == .forwardThenClose)
    }

    @Test func pipelinedRequestsBeforeTheOversizedOneAreAnsweredFirst() {
        var bodyGuard = RequestBodyGuard(maxBodyBytes: 10)
        #expect(bodyGuard.head(contentLength: 2) == .forward)
        #expect(bodyGuard.body(byteCount: 2) == .forward)
        #expect(bodyGuard.end() == .forward)
        #expect(bodyGuard.head(contentLength: 50) == .forwardAndEnd)
        #expect(bodyGuard.responseHead() == .forward)
        #expect(bodyGuard.responseEnd() == .forward)
        #expect(bodyGuard.responseHead() == .forwardClosing)
        #expect(bodyGuard.responseEnd() == .forwardThenClose)
    }
}
