import NIOCore

/// The server's half of the authenticated handshake, as a value the connection's handler drives: `hello` →
/// `challenge` → `authenticate` → `helloAck`. Nothing but the handshake is accepted until the proof checks out: any
/// other frame ends the connection.
struct ServerHandshake {
    /// What the handler does with a handshake frame.
    enum Step {
        /// Send the challenge and wait for the proof.
        case challenge(WireFrame)
        /// The caller proved `role`: send the acknowledgement, then serve requests.
        case authenticated(WirePeerRole, acknowledgement: WireFrame)
    }

    private enum State {
        case awaitingHello
        case awaitingProof(hello: WireHello, role: WirePeerRole, serverNonce: ByteBuffer)
        case done
    }

    private let configuration: WireServerConfiguration
    private var state = State.awaitingHello

    init(configuration: WireServerConfiguration) {
        self.configuration = configuration
    }

    /// Takes the next frame of the handshake.
    /// - Throws: ``WireError`` for a refused handshake: `unauthenticated` (`proof_missing`, `wrong_service_key`,
    ///   `unknown_role`), `invalid_argument` (`handshake_required`, `unsupported_version`, `invalid_nonce`).
    mutating func receive(_ frame: WireFrame) throws(WireError) -> Step {
        switch state {
        case .awaitingHello:
            return try receiveHello(frame)
        case .awaitingProof(let hello, let role, let serverNonce):
            return try receiveProof(frame, hello: hello, role: role, serverNonce: serverNonce)
        case .done:
            throw WireError.protocolViolation("unexpected_frame", "the handshake is over")
        }
    }

    private mutating func receiveHello(_ frame: WireFrame) throws(WireError) -> Step {
        guard frame.header.kind == .hello else {
            throw WireError.protocolViolation(
                "handshake_required", "the first frame must be hello, not \(frame.header.kind)")
        }
        let hello = try WireHello(payload: frame.payload)
        let version = WireFrameHeader.currentVersion
        guard hello.minVersion <= version, version <= hello.maxVersion else {
            throw WireError.protocolViolation(
                "unsupported_version",
                "client speaks versions \(hello.minVersion)...\(hello.maxVersion), server speaks \(version)"
            )
        }
        guard let role = WirePeerRole(rawValue: hello.role) else {
            throw WireError(.unauthenticated, reason: "unknown_role", "no such role: \(hello.role.prefix(64))")
        }
        guard hello.nonce.readableBytes == HandshakeProof.nonceLength else {
            throw WireError.protocolViolation("invalid_nonce", "a nonce has \(HandshakeProof.nonceLength) bytes")
        }
        let serverNonce = HandshakeProof.makeNonce()
        state = .awaitingProof(hello: hello, role: role, serverNonce: serverNonce)
        return .challenge(
            WireFrame(header: WireFrameHeader(kind: .challenge), payload: WireChallenge(nonce: serverNonce).payload()))
    }

    private mutating func receiveProof(
        _ frame: WireFrame, hello: WireHello, role: WirePeerRole, serverNonce: ByteBuffer
    ) throws(WireError) -> Step {
        guard frame.header.kind == .authenticate else {
            throw WireError(
                .unauthenticated, reason: "proof_missing", "expected authenticate, got \(frame.header.kind)")
        }
        let proof = try WireAuthenticate(payload: frame.payload).proof
        guard
            let key = HandshakeProof.keyThatMade(
                proof, .client, keys: configuration.keys, clientNonce: hello.nonce, serverNonce: serverNonce,
                role: hello.role
            )
        else {
            throw WireError(
                .unauthenticated, reason: "wrong_service_key", "the proof does not match this cluster's service key")
        }
        state = .done
        let ack = WireHelloAck(
            version: WireFrameHeader.currentVersion,
            serverName: configuration.serverName,
            maxFrameLength: UInt32(configuration.maxFrameLength),
            maxInFlightRequests: UInt32(configuration.maxInFlightRequestsPerConnection),
            proof: HandshakeProof.proof(
                .server, key: key, clientNonce: hello.nonce, serverNonce: serverNonce, role: hello.role)
        )
        return .authenticated(
            role, acknowledgement: WireFrame(header: WireFrameHeader(kind: .helloAck), payload: ack.payload()))
    }
}
