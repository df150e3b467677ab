import Logging
import NIOCore
import Synchronization
import Wire

/// Whether a connection's reply stream has broken, readable from any thread: once it has, the connection must not
/// be handed out again, even in the moment before its channel has finished closing.
final class RedisConnectionHealth: Sendable {
    private let broken = Atomic<Bool>(false)

    var isBroken: Bool { broken.load(ordering: .relaxed) }

    func markBroken() {
        broken.store(true, ordering: .relaxed)
    }
}

/// Commands to send in one write, and the promise that their replies, in the same order, complete.
struct RedisCommandBatch: Sendable {
    var commands: [RedisCommand]
    /// How long the last reply may take from the moment the batch is written.
    var timeout: Duration
    var promise: EventLoopPromise<[RedisValue]>
}

/// The client side of one Redis connection, on its event loop.
///
/// Redis answers strictly in order, so replies are matched to commands first-in, first-out: each batch is encoded
/// into one buffer and written at once, its promise queued, and every decoded reply goes to the oldest batch still
/// waiting. Anything that breaks the stream (a timeout, a protocol error, the connection closing) fails every
/// waiting batch and closes the connection, because replies could no longer be matched safely. The batches' deadlines
/// share one timer (``RequestDeadlines``), not a scheduled task each.
///
/// It parses the bytes it reads itself, through hiredis's reader (``RESPReader``): each read is fed whole, and every
/// reply it completes goes to its batch at once, so a reply split over any number of reads, or many replies in one
/// read, come out the same, with no decoder handler in front and no reply boxed between handlers. A malformed or
/// oversized reply breaks the stream.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisCommandBatch
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var id: UInt64
        var expected: Int
        var promise: EventLoopPromise<[RedisValue]>
        /// The batch's script calls, by ascending position (empty for most batches).
        var scriptCalls: [ScriptCall]
    }

    /// One call of a ``RedisScript`` in a batch: where, which script, and whether its body was sent.
    private struct ScriptCall {
        var position: Int
        var digest: [UInt8]
        var sentBody: Bool
    }

    private let address: RedisNodeAddress
    private let health: RedisConnectionHealth
    private let logger: Logger
    private let reader: RESPReader
    private var waiting = CircularBuffer<Waiting>()
    /// The waiting batches' deadlines, by batch id.
    private var deadlines = RequestDeadlines<UInt64>()
    /// The replies so far of the oldest waiting batch. Kept outside `waiting` so that appending never copies them:
    /// a batch of 5,000 commands would otherwise cost 5,000 copies of a growing array.
    private var headReplies: [RedisValue] = []
    private var nextBatchID: UInt64 = 0
    /// Set once the stream is broken; later batches fail at once.
    private var failure: RedisError?
    /// The digests of the scripts a call on this connection has run, which the server therefore holds: called by
    /// digest from then on. As many as the program has scripts.
    private var runScripts: Set<[UInt8]> = []
    /// The next of the oldest waiting batch's script calls to be answered.
    private var headScriptCall = 0

    /// - Parameter limits: bounds for one reply; see ``RESPReaderLimits``.
    init(
        address: RedisNodeAddress, health: RedisConnectionHealth, limits: RESPReaderLimits = RESPReaderLimits(),
        logger: Logger
    ) {
        reader = RESPReader(limits: limits)
        self.address = address
        self.health = health
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise writePromise: EventLoopPromise<Void>?) {
        let batch = unwrapOutboundIn(data)
        if failure != nil {
            // Nothing of this batch was sent, so the caller may safely send it elsewhere.
            let error = RedisError.unavailable("the connection to \(address) broke before the commands were sent")
            batch.promise.fail(error)
            writePromise?.fail(error)
            return
        }
        guard !batch.commands.isEmpty else {
            batch.promise.succeed([])
            writePromise?.succeed()
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * batch.commands.count)
        var scriptCalls: [ScriptCall] = []
        do {
            for (position, command) in batch.commands.enumerated() {
                guard let script = command.script else {
                    try command.encode(into: &buffer)
                    continue
                }
                let known = runScripts.contains(script.digest)
                try (known ? command : command.withScriptBody).encode(into: &buffer)
                scriptCalls.append(ScriptCall(position: position, digest: script.digest, sentBody: !known))
            }
        } catch {
            batch.promise.fail(error)
            writePromise?.fail(error)
            return
        }
        nextBatchID &+= 1
        let id = nextBatchID
        deadlines.track(id, until: context.eventLoop.now + TimeAmount(batch.timeout)) { deadline in
            armTimer(for: deadline, context: context)
        }
        waiting.append(
            Waiting(id: id, expected: batch.commands.count, promise: batch.promise, scriptCalls: scriptCalls))
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { error in
            self.breakStream(.connectionClosed("could not write to \(self.address): \(error)"), context: context)
        }
        written.futureResult.cascade(to: writePromise)
        context.write(wrapOutboundOut(buffer), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A broken stream is closing: what still arrives cannot be matched to anything.
        guard failure == nil else { return }
        do {
            try reader.feed(unwrapInboundIn(data))
            while failure == nil, let reply = try reader.next() {
                receive(reply, context: context)
            }
        } catch {
            breakStream(error, context: context)
        }
    }

    private func receive(_ reply: RedisValue, context: ChannelHandlerContext) {
        guard !waiting.isEmpty else {
            breakStream(.protocolError("\(address) sent a reply nobody asked for"), context: context)
            return
        }
        if headReplies.isEmpty {
            headReplies.reserveCapacity(waiting[waiting.startIndex].expected)
        }
        headReplies.append(reply)
        let scriptCalls = waiting[waiting.startIndex].scriptCalls
        if headScriptCall < scriptCalls.count, scriptCalls[headScriptCall].position == headReplies.count - 1 {
            learn(from: reply, to: scriptCalls[headScriptCall])
            headScriptCall += 1
        }
        if headReplies.count == waiting[waiting.startIndex].expected {
            let head = waiting.removeFirst()
            let replies = headReplies
            headReplies = []
            headScriptCall = 0
            deadlines.forget(head.id)
            head.promise.succeed(replies)
        }
    }

    /// A script call that succeeded with its body leaves the script in the server's cache; one by digest refused
    /// with `NOSCRIPT` finds it gone (flushed), so the next call sends the body again.
    private func learn(from reply: RedisValue, to call: ScriptCall) {
        if case .error(let text) = reply {
            if !call.sentBody, text.hasPrefix("NOSCRIPT") {
                runScripts.remove(call.digest)
            }
        } else if call.sentBody {
            runScripts.insert(call.digest)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(failure ?? .connectionClosed("the connection to \(address) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let redisError = error as? RedisError ?? .connectionClosed("connection to \(address) failed: \(error)")
        breakStream(redisError, context: context)
    }

    private func armTimer(for deadline: NIODeadline, context: ChannelHandlerContext) -> Scheduled<Void> {
        context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.timerFired(context: context) }
    }

    /// The deadline timer fired: a batch past its deadline breaks the stream (its replies may still come, and every
    /// batch behind it would be matched to the wrong ones).
    private func timerFired(context: ChannelHandlerContext) {
        let due = deadlines.expire(at: context.eventLoop.now) { armTimer(for: $0, context: context) }
        guard !due.isEmpty else { return }
        breakStream(RedisError(.timeout, "no reply from \(address) in time"), context: context)
    }

    /// Fails every waiting batch with `error` and closes the connection.
    private func breakStream(_ error: RedisError, context: ChannelHandlerContext) {
        if failure == nil {
            failure = error
            logger.warning("closing Redis connection", metadata: ["redis.node": "\(address)", "error": "\(error)"])
        }
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        failure = failure ?? error
        health.markBroken()
        headReplies = []
        headScriptCall = 0
        deadlines.cancelAll()
        while let batch = waiting.popFirst() {
            batch.promise.fail(error)
        }
    }
}
