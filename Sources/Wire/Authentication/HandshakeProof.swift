import NIOCore

/// The proofs exchanged in the handshake: HMAC-SHA256 under the service key over both sides' nonces and the client's
/// role, with a different label for each direction so that neither side's proof can be reflected back as the other's.
///
/// ```
/// client proof = HMAC(key, "tweeter-wire-2 client" ‖ client nonce ‖ server nonce ‖ u8 length ‖ role)
/// server proof = HMAC(key, "tweeter-wire-2 server" ‖ client nonce ‖ server nonce ‖ u8 length ‖ role)
/// ```
///
/// Each side picks a fresh nonce for every connection, so a recorded proof is worthless on another connection.
enum HandshakeProof {
    /// Bytes in a nonce.
    static let nonceLength = 32

    enum Direction: String {
        case client, server
    }

    static func makeNonce() -> ByteBuffer {
        var generator = SystemRandomNumberGenerator()  // getrandom(2) on Linux: a CSPRNG
        var nonce = ByteBuffer()
        nonce.reserveCapacity(nonceLength)
        for _ in 0..<(nonceLength / 8) {
            nonce.writeInteger(generator.next() as UInt64)
        }
        return nonce
    }

    static func proof(
        _ direction: Direction, key: [UInt8], clientNonce: ByteBuffer, serverNonce: ByteBuffer, role: String
    ) -> ByteBuffer {
        var message = Array("tweeter-wire-2 \(direction.rawValue)".utf8)
        message += clientNonce.readableBytesView
        message += serverNonce.readableBytesView
        let roleBytes = Array(role.utf8.prefix(255))
        message.append(UInt8(roleBytes.count))
        message += roleBytes
        return ByteBuffer(bytes: WireServiceKeys.hmac(key: key, message))
    }

    /// The key among `keys` that made `proof`, if any; every candidate is checked in constant time.
    static func keyThatMade(
        _ proof: ByteBuffer, _ direction: Direction, keys: WireServiceKeys, clientNonce: ByteBuffer,
        serverNonce: ByteBuffer, role: String
    ) -> [UInt8]? {
        let presented = Array(proof.readableBytesView)
        var match: [UInt8]?
        for key in keys.accepted {
            let expected = self.proof(
                direction, key: key, clientNonce: clientNonce, serverNonce: serverNonce, role: role)
            if WireServiceKeys.constantTimeEqual(Array(expected.readableBytesView), presented), match == nil {
                match = key
            }
        }
        return match
    }
}
