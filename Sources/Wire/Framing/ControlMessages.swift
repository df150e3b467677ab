import NIOCore

/// Payload of a `hello` frame: the client opens every connection with it.
public struct WireHello: WireMessage, Hashable {
    public var minVersion: UInt8
    public var maxVersion: UInt8
    /// Who is calling, for the server's logs (`gateway`, `timeline-service`, ...).
    public var clientName: String
    /// Reserved for a shared-secret proof (for example an HMAC over a server nonce). v1 servers ignore it.
    public var authProof: ByteBuffer?

    public init(minVersion: UInt8 = 1, maxVersion: UInt8 = 1, clientName: String, authProof: ByteBuffer? = nil) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.clientName = clientName
        self.authProof = authProof
    }

    public init(from reader: inout WireReader) throws(WireError) {
        minVersion = try reader.read()
        maxVersion = try reader.read()
        clientName = try reader.read(String.self, maxBytes: 256)
        authProof = try reader.readOptional { (reader: inout WireReader) throws(WireError) in try reader.readBytes() }
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(minVersion)
        writer.write(maxVersion)
        writer.write(clientName)
        writer.write(authProof) { writer, proof in writer.write(bytes: proof) }
    }
}

/// Payload of a `helloAck` frame: the version the server chose and the limits the client must respect.
public struct WireHelloAck: WireMessage, Hashable {
    public var version: UInt8
    public var serverName: String
    public var maxFrameLength: UInt32
    public var maxInFlightRequests: UInt32

    public init(version: UInt8, serverName: String, maxFrameLength: UInt32, maxInFlightRequests: UInt32) {
        self.version = version
        self.serverName = serverName
        self.maxFrameLength = maxFrameLength
        self.maxInFlightRequests = maxInFlightRequests
    }

    public init(from reader: inout WireReader) throws(WireError) {
        version = try reader.read()
        serverName = try reader.read(String.self, maxBytes: 256)
        maxFrameLength = try reader.read()
        maxInFlightRequests = try reader.read()
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(version)
        writer.write(serverName)
        writer.write(maxFrameLength)
        writer.write(maxInFlightRequests)
    }
}

/// Payload of an `error` frame.
public struct WireErrorPayload: WireMessage, Hashable {
    public var error: WireError

    public init(_ error: WireError) {
        self.error = error
    }

    public init(from reader: inout WireReader) throws(WireError) {
        let code = WireError.Code(rawValue: try reader.read())
        let reason = try reader.read(String.self, maxBytes: 256)
        let message = try reader.read(String.self, maxBytes: 4096)
        error = WireError(code, reason: reason, message)
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(error.code.rawValue)
        writer.write(error.reason)
        writer.write(error.message)
    }
}

/// Payload of a `goAway` frame.
public struct WireGoAway: WireMessage, Hashable {
    /// The highest request id the sender will still answer.
    public var lastRequestID: UInt64
    public var reason: String

    public init(lastRequestID: UInt64, reason: String) {
        self.lastRequestID = lastRequestID
        self.reason = reason
    }

    public init(from reader: inout WireReader) throws(WireError) {
        lastRequestID = try reader.read()
        reason = try reader.read(String.self, maxBytes: 1024)
    }

    public func encode(to writer: inout WireWriter) {
        writer.write(lastRequestID)
        writer.write(reason)
    }
}
