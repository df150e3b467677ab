import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import TLS

/// What went wrong talking to a server in a test.
public struct HTTPTestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// An answer read off a real connection.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: Int, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw HTTPTestFailure("not a JSON object: \(String(buffer: body))")
        }
        return object
    }

    public var errorCode: String? {
        ((try? jsonObject())?["error"] as? [String: Any])?["code"] as? String
    }
}

/// One keep-alive HTTP/1.1 connection to a live Gateway, through a client ``TLSHandler`` (or plain); requests go one
/// at a time.
public final class HTTPSConnection {
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

    private init(
        inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    ) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Connects to `host`:`port` (127.0.0.1 unless said otherwise), runs `body` on the connection and closes it.
    ///
    /// - Parameter sourceAddress: the local address to connect from, such as `127.0.0.2` (Linux routes all of
    ///   127.0.0.0/8 to loopback), so that a test can be another client address; the system's choice when `nil`.
    public static func with<T>(
        host: String = "127.0.0.1", port: Int, tls: TLSContext?, sourceAddress: String? = nil,
        _ body: (HTTPSConnection) async throws -> T
    ) async throws -> T {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let sourceAddress {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceAddress, port: 0))
        }
        let channel =
            try await bootstrap
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            TLSHandler(context: tls, serverName: "localhost"))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(HTTPSConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound))
        }
    }

    /// Sends a request with `Content-Length` (or chunked, in parts of `chunkSize`) and reads its answer.
    public func send(
        _ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: ByteBuffer? = nil,
        chunkSize: Int? = nil
    ) async throws -> HTTPReply {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: "localhost")
        head.headers.add(contentsOf: headers)
        if let body, chunkSize == nil {
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        } else if chunkSize != nil {
            head.headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        try await outbound.write(.head(head))
        if var body {
            let size = chunkSize ?? max(body.readableBytes, 1)
            while let chunk = body.readSlice(length: min(size, body.readableBytes)), chunk.readableBytes > 0 {
                try await outbound.write(.body(.byteBuffer(chunk)))
            }
        }
        try await outbound.write(.end(nil))
        return try await receive()
    }

    /// Reads one answer.
    public func receive() async throws -> HTTPReply {
        guard case .head(let head)? = try await inbound.next() else { throw HTTPTestFailure("no response head") }
        var body = ByteBuffer()
        while let part = try await inbound.next() {
            switch part {
            case .head: throw HTTPTestFailure("a second head")
            case .body(let bytes): body.writeImmutableBuffer(bytes)
            case .end: return HTTPReply(status: Int(head.status.code), headers: head.headers, body: body)
            }
        }
        throw HTTPTestFailure("the connection ended inside a response")
    }

    /// Waits until the server closes the connection; true when it did so without a reset or a TLS error.
    public func closedCleanly() async -> Bool {
        do {
            while try await inbound.next() != nil {}
            return true
        } catch {
            return false
        }
    }
}

@available(*, unavailable)
extension HTTPSConnection: Sendable {}
