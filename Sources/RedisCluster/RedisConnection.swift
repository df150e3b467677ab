import Logging
import NIOCore
import NIOPosix

/// One TCP connection to one Redis node, carrying pipelined batches of commands.
///
/// Any number of tasks may use it at once: each ``execute(_:)`` is one write and one flush, and the replies come
/// back in the order the batches were written (see ``RedisConnectionHandler``).
final class RedisConnection: Sendable {
    let address: RedisNodeAddress
    private let channel: any Channel
    private let health: RedisConnectionHealth
    private let commandTimeout: Duration

    private init(
        address: RedisNodeAddress, channel: any Channel, health: RedisConnectionHealth, commandTimeout: Duration
    ) {
        self.address = address
        self.channel = channel
        self.health = health
        self.commandTimeout = commandTimeout
    }

    /// Connects to `address` on `eventLoop`.
    ///
    /// The future fails with ``RedisError/Code/unavailable`` when no connection could be made; nothing was sent
    /// then, so a caller may safely try elsewhere.
    static func connect(
        to address: RedisNodeAddress,
        on eventLoop: any EventLoop,
        configuration: RedisClient.Configuration,
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        let limits = configuration.replyLimits
        let health = RedisConnectionHealth()
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RedisConnectionHandler(address: address, health: health, limits: limits, logger: logger))
                }
            }
            .connect(host: address.host, port: address.port)
            .map { channel in
                RedisConnection(
                    address: address, channel: channel, health: health, commandTimeout: configuration.commandTimeout
                )
            }
            .flatMapErrorThrowing { error in
                throw RedisError.unavailable("cannot connect to \(address): \(error)")
            }
    }

    /// Whether the connection can still carry commands.
    var isActive: Bool { channel.isActive && !health.isBroken }

    /// Completes when the connection has closed.
    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Sends `commands` in one write and waits for all their replies, in order.
    ///
    /// Error replies are values, not failures. The call fails only when the connection does: with
    /// ``RedisError/Code/unavailable`` when the connection had already broken and nothing was sent; with
    /// ``RedisError/Code/timeout``, ``RedisError/Code/connectionClosed`` or ``RedisError/Code/protocolError`` when
    /// the commands may or may not have run.
    func execute(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisValue] {
        let promise = channel.eventLoop.makePromise(of: [RedisValue].self)
        let batch = RedisCommandBatch(commands: commands, timeout: commandTimeout, promise: promise)
        channel.writeAndFlush(batch).whenFailure { _ in
            // When the handler saw the batch it has already failed the promise; otherwise the channel had closed
            // and dropped its handlers, and nothing was sent.
            promise.fail(
                RedisError.unavailable("the connection to \(self.address) closed before the commands were sent"))
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .connectionClosed("\(address): \(error)")
        }
    }

    /// Closes the connection; batches still waiting fail with ``RedisError/Code/connectionClosed``.
    func close() {
        channel.close(promise: nil)
    }
}
