import NIOCore
import NIOPosix
import Synchronization
import TimelineService

/// The tests' window on the Redis Cluster: reads keys the API cannot show (the homes of synthetic followers, the
/// fan-out stream) and injects faults into one master (`CONFIG SET maxmemory`).
///
/// One connection per node, one command at a time on each. Keyed commands go to any node and follow `MOVED`, so
/// the probe needs no slot table; `node:` commands go where they are told.
final class RedisProbe: Sendable {
    private let seeds: [String]
    private let connections = Mutex<[String: any Channel]>([:])

    init(seeds: [String]) {
        self.seeds = seeds
    }

    /// A probe on the cluster that `TWEETER_REDIS_CLUSTER` names.
    static func cluster() throws -> RedisProbe {
        RedisProbe(seeds: try FaultEnvironment.value("TWEETER_REDIS_CLUSTER").split(separator: ",").map(String.init))
    }

    /// Runs a keyed (or keyless) command on the cluster, following `MOVED`, and returns its reply.
    /// - Throws: ``FaultFailure`` for an error reply, naming the command.
    func send(_ arguments: [RedisArgument]) async throws -> RESPValue {
        var node = seeds[0]
        for _ in 0..<5 {
            let reply = try await sendOnce(arguments, to: node)
            if case .error(let message) = reply, message.hasPrefix("MOVED ") {
                node = String(message.split(separator: " ")[2])
                continue
            }
            return try checked(reply, arguments)
        }
        throw FaultFailure("\(describe(arguments)): redirected more than five times")
    }

    /// Runs a command on one node (`host:port`) as it is, without following redirects.
    func send(_ arguments: [RedisArgument], to node: String) async throws -> RESPValue {
        try checked(try await sendOnce(arguments, to: node), arguments)
    }

    /// The integer reply of a command (`XLEN`, `EXISTS`); `nil` when the reply is not an integer.
    func integer(_ arguments: [RedisArgument]) async throws -> Int64? {
        try await send(arguments).integer
    }

    /// Closes every connection.
    func close() {
        let channels = connections.withLock { open in
            defer { open = [:] }
            return Array(open.values)
        }
        for channel in channels {
            channel.close(promise: nil)
        }
    }

    private func sendOnce(_ arguments: [RedisArgument], to node: String) async throws -> RESPValue {
        let channel = try await connection(to: node)
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.writeAndFlush(
            RESPReplyHandler.Request(command: RESPValue.command(arguments.map(\.bytes)), reply: promise), promise: nil)
        do {
            return try await promise.futureResult.get()
        } catch {
            connections.withLock { _ = $0.removeValue(forKey: node) }
            channel.close(promise: nil)
            throw FaultFailure("\(describe(arguments)) on \(node): \(error)")
        }
    }

    private func connection(to node: String) async throws -> any Channel {
        if let open = connections.withLock({ $0[node] }), open.isActive { return open }
        let parts = node.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw FaultFailure("not a host:port: \(node)") }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RESPReplyHandler())
                }
            }
            .connect(host: String(parts[0]), port: port).get()
        let replaced = connections.withLock { open in
            defer { open[node] = channel }
            return open[node]
        }
        replaced?.close(promise: nil)
        return channel
    }

    private func checked(_ reply: RESPValue, _ arguments: [RedisArgument]) throws -> RESPValue {
        if case .error(let message) = reply {
            throw FaultFailure("\(describe(arguments)) answered \(message)")
        }
        return reply
    }

    private func describe(_ arguments: [RedisArgument]) -> String {
        arguments.prefix(3).map(\.description).joined(separator: " ")
    }
}

/// One argument of a Redis command: text, or bytes (a timeline member, ``TimelineMember``).
struct RedisArgument: Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    let bytes: [UInt8]
    let description: String

    init(stringLiteral text: String) {
        self.init(text)
    }

    init(_ text: String) {
        bytes = Array(text.utf8)
        description = text
    }

    /// The timeline member of a tweet id.
    static func member(_ tweetID: Int64) -> RedisArgument {
        RedisArgument(bytes: TimelineMember.encode(tweetID), id: tweetID)
    }

    private init(bytes: [UInt8], id: Int64) {
        self.bytes = bytes
        description = "<member \(id)>"
    }
}

/// Writes commands and hands each reply to the promise of the command it answers, in order.
private final class RESPReplyHandler: ChannelDuplexHandler {
    struct Request {
        var command: ByteBuffer
        var reply: EventLoopPromise<RESPValue>
    }

    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    private var received = ByteBuffer()
    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.reply)
        context.write(wrapOutboundOut(request.command), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        do {
            while let reply = try RESPValue.read(from: &received) {
                guard let promise = waiting.popFirst() else { throw FaultFailure("a reply nobody asked for") }
                promise.succeed(reply)
            }
            received.discardReadBytes()
        } catch {
            failAll(error)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(FaultFailure("the Redis connection closed"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let promise = waiting.popFirst() {
            promise.fail(error)
        }
    }
}
