/// Commands addressed to a node rather than to a slot: one command per master carrying the keys of many slots that
/// master serves, for work spread over many keys (a fan-out writes one key per follower). The command is a script
/// flagged `allow-cross-slot-keys` that names its keys in its arguments; the node refuses any key it does not serve,
/// and the script reports those for the caller to send through the slot-routed ``RedisClient/pipeline(_:replicatedTo:)``.
extension RedisClient {
    /// One master's share of a list of items, by the slot of each item's key.
    public struct NodeShare<Item> {
        public var node: RedisNodeAddress
        public var items: [Item]
    }

    /// Splits `items` by the master that serves each item's key in the current slot map. A key whose slot no node
    /// claims goes with the first master, which will refuse it.
    public func sharesByNode<Item>(_ items: [Item], key: (Item) -> String) async throws(RedisError) -> [NodeShare<Item>]
    {
        let topology = try await currentTopology()
        let fallback = topology.masters.first ?? topology.nodes[0]
        var shares: [NodeShare<Item>] = []
        var shareIndex: [RedisNodeAddress: Int] = [:]
        for item in items {
            let node = topology.node(serving: HashSlot(key: key(item).utf8)) ?? fallback
            if let index = shareIndex[node] {
                shares[index].items.append(item)
            } else {
                shareIndex[node] = shares.count
                shares.append(NodeShare(node: node, items: [item]))
            }
        }
        return shares
    }

    /// Sends each command to its node, every node at once, and returns the replies in the same order, error replies
    /// included (the caller decides what each means).
    ///
    /// - Parameter replication: when given, each command is followed by `WAIT` on the same connection and must reach
    ///   that many replicas.
    /// - Throws: ``RedisError/Code/notReplicated`` when a node's replicas did not confirm in time; the transport
    ///   errors of ``pipelineReplies(_:replicatedTo:)`` (after which the slot map is refreshed, so that a retry goes
    ///   to the new owners).
    public func send(
        _ commands: [(node: RedisNodeAddress, command: RedisCommand)], replicatedTo replication: RedisReplication?
    ) async throws(RedisError) -> [RedisValue] {
        let batches = commands.enumerated().map { index, addressed in
            RedisPipelinePlan.Batch(
                node: addressed.node, positions: [index],
                commands: [addressed.command] + (replication.map { [$0.waitCommand] } ?? []))
        }
        var replies: [RedisValue] = []
        var broken: RedisError?
        for (batch, outcome) in zip(batches, await execute(batches)) {
            switch outcome {
            case .success(var values):
                if let replication, let shortfall = replication.shortfall(popping: &values, from: batch.node) {
                    broken = broken ?? shortfall
                }
                replies.append(values.first ?? .null)
            case .failure(let error):
                broken = broken ?? error
                replies.append(.null)
            }
        }
        if let broken {
            if isCluster, broken.code != .notReplicated {
                await refreshTopology(applying: [])
            }
            throw broken
        }
        return replies
    }
}
