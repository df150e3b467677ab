import NIOCore

/// The client's half of the authenticated handshake, as a value the connection's handler drives: the hello to send,
/// the proof that answers the server's challenge, and the check of the server's own proof.
struct ClientHandshake: Sendable {
    let role: WirePeerRole
    let keys: WireServiceKeys
    /// This connection's nonce (fresh for every connection).
    let nonce: ByteBuffer
    private(set) var serverNonce: ByteBuffer?

    init(role: WirePeerRole, keys: WireServiceKeys, nonce: ByteBuffer = HandshakeProof.makeNonce()) {
        self.role = role
        self.keys = keys
        self.nonce = nonce
    }

    var hello: WireHello {
        WireHello(role: role.rawValue, nonce: nonce)
    }

    /// The answer to the server's challenge: a proof made with the current key.
    mutating func answer(_ challenge: WireChallenge) throws(WireError) -> WireAuthenticate {
        guard serverNonce == nil else {
            throw WireError.protocolViolation("unexpected_frame", "the server sent a second challenge")
        }
        guard challenge.nonce.readableBytes == HandshakeProof.nonceLength else {
            throw WireError.protocolViolation("invalid_nonce", "a nonce has \(HandshakeProof.nonceLength) bytes")
        }
        serverNonce = challenge.nonce
        return WireAuthenticate(
            proof: HandshakeProof.proof(
                .client, key: keys.current, clientNonce: nonce, serverNonce: challenge.nonce, role: role.rawValue)
        )
    }

    /// Checks that the server proved it holds a key this client accepts.
    /// - Throws: `unauthenticated/server_not_authenticated` when it did not (or skipped the challenge).
    func verify(_ ack: WireHelloAck) throws(WireError) {
        guard let serverNonce,
            HandshakeProof.keyThatMade(
                ack.proof, .server, keys: keys, clientNonce: nonce, serverNonce: serverNonce, role: role.rawValue
            ) != nil
        else {
            throw WireError(
                .unauthenticated, reason: "server_not_authenticated",
                "the server did not prove that it holds this cluster's service key"
            )
        }
    }
}
