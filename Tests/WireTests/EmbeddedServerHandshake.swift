import NIOCore
import NIOEmbedded

@testable import Wire

/// Plays the server's half of the handshake against a client handler on an `EmbeddedChannel`: reads the hello,
/// sends a challenge, reads the client's proof, and answers with a helloAck proven with `keys`.
struct EmbeddedServerHandshake {
    let channel: EmbeddedChannel
    let hello: WireHello
    let serverNonce: ByteBuffer
    let clientProof: ByteBuffer

    init(channel: EmbeddedChannel, keys: WireServiceKeys) throws {
        self.channel = channel
        let helloFrame = try channel.readOutbound(as: WireFrame.self)
        guard let helloFrame, helloFrame.header.kind == .hello else {
            throw WireError(.internal, "the client sent no hello")
        }
        hello = try WireHello(payload: helloFrame.payload)
        serverNonce = HandshakeProof.makeNonce()
        try channel.writeInbound(
            WireFrame(header: WireFrameHeader(kind: .challenge), payload: WireChallenge(nonce: serverNonce).payload()))
        let proofFrame = try channel.readOutbound(as: WireFrame.self)
        guard let proofFrame, proofFrame.header.kind == .authenticate else {
            throw WireError(.internal, "the client did not answer the challenge")
        }
        clientProof = try WireAuthenticate(payload: proofFrame.payload).proof
    }

    /// Sends the helloAck with a server proof made with `key`.
    func acknowledge(maxInFlightRequests: UInt32, provingWith key: [UInt8] = testKeys.current) throws {
        let proof = HandshakeProof.proof(
            .server, key: key, clientNonce: hello.nonce, serverNonce: serverNonce, role: hello.role)
        let ack = WireHelloAck(
            version: WireFrameHeader.currentVersion, serverName: "embedded", maxFrameLength: 1 << 20,
            maxInFlightRequests: maxInFlightRequests, proof: proof
        )
        try channel.writeInbound(WireFrame(header: WireFrameHeader(kind: .helloAck), payload: ack.payload()))
    }
}
