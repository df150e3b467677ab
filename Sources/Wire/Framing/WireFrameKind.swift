/// What a frame is for. The raw value is the frame's `kind` byte.
public enum WireFrameKind: UInt8, Sendable, Hashable, CaseIterable {
    /// Client to server, first frame on a connection: the versions it speaks, its role and its nonce.
    case hello = 1
    /// Server to client, last frame of the handshake: the server's proof, the chosen version and its limits.
    case helloAck = 2
    /// A call of `method`, correlated by `requestID`.
    case request = 3
    /// The successful answer to the request with the same `requestID`.
    case response = 4
    /// A failed answer (payload: ``WireErrorPayload``); with `requestID` 0 it is about the connection itself.
    case error = 5
    /// Either side: are you there? The payload is echoed in the pong.
    case ping = 6
    case pong = 7
    /// Either side: no new requests on this connection; requests up to `lastRequestID` are still answered.
    case goAway = 8
    /// Server to client, in answer to `hello`: the server's nonce.
    case challenge = 9
    /// Client to server, in answer to `challenge`: the client's proof that it holds the service key.
    case authenticate = 10
}
