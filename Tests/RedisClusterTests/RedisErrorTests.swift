import Testing

@testable import RedisCluster

@Suite struct RedisErrorTests {
    @Test func codesHaveStableNames() {
        let codes: [(RedisError.Code, String)] = [
            (.connectionClosed, "connection_closed"), (.protocolError, "protocol_error"),
            (.replyTooLarge, "reply_too_large"), (.serverError, "server_error"), (.clusterDown, "cluster_down"),
            (.tooManyRedirects, "too_many_redirects"), (.crossSlot, "cross_slot"), (.timeout, "timeout"),
            (.unavailable, "unavailable"),
        ]
        for (code, name) in codes {
            #expect(code.description == name)
        }
        #expect(RedisError(.timeout, "no reply").description == "timeout: no reply")
    }

    @Test func errorRepliesMapToCodes() {
        #expect(RedisError.fromReply("CLUSTERDOWN The cluster is down").code == .clusterDown)
        let wrongType = RedisError.fromReply("WRONGTYPE Operation against a key holding the wrong kind of value")
        #expect(wrongType.code == .serverError)
        #expect(wrongType.message.hasPrefix("WRONGTYPE"))
    }
}
