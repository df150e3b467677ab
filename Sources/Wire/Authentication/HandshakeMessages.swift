import NIOCore

// The four messages of the handshake (see `docs/wire.md`, "Connection life"):
// hello (client) → challenge (server) → authenticate (client) → helloAck (server).

/// Payload of a `hello` frame: the client opens every connection with it.
public struct WireHello: WireMessage, Hashable {
    public var minVersion: UInt8
    public var maxVersion: UInt8
    /// The role the client claims (``WirePeerRole``'s raw value); bound into its proof.
    public var role: String
    /// Fresh random bytes, so that the server's proof cannot be replayed to this client.
    public var nonce: ByteBuffer

    public init(
        minVersion: UInt8 = WireFrameHeader.currentVersion, maxVersion: UInt8 = WireFrameHeader.currentVersion,
        role: String, nonce: ByteBuffer
    ) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.role = role
        self.nonce = nonce
    }

    public init(from reader: inout WireReader) throws(WireError) {
        minVersion = try reader.read()
        maxVersion = try reader.read()
        role = try reader.read(String.self, maxBytes: 64)
        nonce = try reader.readBytes()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(minVersion)
        writer.write(maxVersion)
        writer.write(role)
        writer.write(bytes: nonce)
    }
}

/// Payload of a `challenge` frame: the server's fresh nonce, which the client's proof must cover.
public struct WireChallenge: WireMessage, Hashable {
    public var nonce: ByteBuffer

    public init(nonce: ByteBuffer) {
        self.nonce = nonce
    }

    public init(from reader: inout WireReader) throws(WireError) {
        nonce = try reader.readBytes()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(bytes: nonce)
    }
}

/// Payload of an `authenticate` frame: the client's proof that it holds the service key.
public struct WireAuthenticate: WireMessage, Hashable {
    public var proof: ByteBuffer

    public init(proof: ByteBuffer) {
        self.proof = proof
    }

    public init(from reader: inout WireReader) throws(WireError) {
        proof = try reader.readBytes()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(bytes: proof)
    }
}

/// Payload of a `helloAck` frame: the server's own proof, the version it chose and the limits the client must respect.
public struct WireHelloAck: WireMessage, Hashable {
    public var version: UInt8
    public var serverName: String
    public var maxFrameLength: UInt32
    public var maxInFlightRequests: UInt32
    /// The server's proof that it holds the service key too.
    public var proof: ByteBuffer

    public init(
        version: UInt8, serverName: String, maxFrameLength: UInt32, maxInFlightRequests: UInt32, proof: ByteBuffer
    ) {
        self.version = version
        self.serverName = serverName
        self.maxFrameLength = maxFrameLength
        self.maxInFlightRequests = maxInFlightRequests
        self.proof = proof
    }

    public init(from reader: inout WireReader) throws(WireError) {
        version = try reader.read()
        serverName = try reader.read(String.self, maxBytes: 256)
        maxFrameLength = try reader.read()
        maxInFlightRequests = try reader.read()
        proof = try reader.readBytes()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(version)
        writer.write(serverName)
        writer.write(maxFrameLength)
        writer.write(maxInFlightRequests)
        writer.write(bytes: proof)
    }
}
