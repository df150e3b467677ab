/// An error reply by which a cluster node tells the client to send a command elsewhere or again.
enum RedisRedirect: Sendable, Hashable {
    /// `MOVED <slot> <host>:<port>`: the slot now lives on that node for good; the client's map is stale.
    case moved(HashSlot, RedisNodeAddress)
    /// `ASK <slot> <host>:<port>`: the slot is migrating and this key is already on that node; send `ASKING` and
    /// then the command there, once, without changing the map.
    case ask(HashSlot, RedisNodeAddress)
    /// `TRYAGAIN ...`: a multi-key command during a migration found only some of its keys; retry after a pause.
    case tryAgain

    /// Reads a redirect out of an error reply; `nil` for any other error.
    ///
    /// - Parameters:
    ///   - message: the error text, e.g. `MOVED 3999 127.0.0.1:6381`.
    ///   - node: the node that replied; a redirect with an empty host (`MOVED 3999 :6381`, which Redis sends when it
    ///     does not know its own address) means that node's host.
    init?(errorMessage message: String, from node: RedisNodeAddress) {
        if message.hasPrefix("TRYAGAIN") {
            self = .tryAgain
            return
        }
        let parts = message.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, let number = Int(parts[1]), let slot = HashSlot(rawValue: number) else { return nil }
        let target: RedisNodeAddress
        if parts[2].hasPrefix(":"), let port = Int(parts[2].dropFirst()) {
            target = RedisNodeAddress(host: node.host, port: port)
        } else if let address = RedisNodeAddress(parts[2]) {
            target = address
        } else {
            return nil
        }
        switch parts[0] {
        case "MOVED": self = .moved(slot, target)
        case "ASK": self = .ask(slot, target)
        default: return nil
        }
    }
}
