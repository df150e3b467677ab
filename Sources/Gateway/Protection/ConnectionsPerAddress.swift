import Logging
import NIOCore
import Synchronization

/// How many connections each client address holds, so that one client cannot take every connection the Gateway
/// serves. Entries exist only while their address has a connection open, so the table is bounded by the connection
/// limit.
final class ConnectionsPerAddress: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection from `address`; false, counting nothing, when the address is at its limit.
    func admit(_ address: String) -> Bool {
        counts.withLock { counts in
            let count = counts[address, default: 0]
            guard count < limit else { return false }
            counts[address] = count + 1
            return true
        }
    }

    /// Forgets one connection of `address`.
    func release(_ address: String) {
        counts.withLock { counts in
            let count = counts[address, default: 0]
            counts[address] = count > 1 ? count - 1 : nil
        }
    }
}

/// The first handler of every connection: closes it at once, before the TLS handshake, when its address already
/// holds ``ConnectionsPerAddress/limit`` connections.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let connections: ConnectionsPerAddress
    private let logger: Logger
    private var counted: String?

    init(connections: ConnectionsPerAddress, logger: Logger) {
        self.connections = connections
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let address = ClientAddress.key(context.remoteAddress)
        guard connections.admit(address) else {
            logger.info(
                "refusing a connection over the per-address limit",
                metadata: ["address": "\(address)", "limit": "\(connections.limit)"])
            context.close(promise: nil)
            return
        }
        counted = address
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let counted {
            connections.release(counted)
            self.counted = nil
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ConnectionLimitHandler: Sendable {}
