import Testing

@testable import RedisCluster
@testable import TimelineService

/// Moves slots between the masters of the live cluster the way `redis-cli --cluster reshard` does, through one
/// standalone-mode client per node, and checks that the cluster ends healthy.
struct RedisClusterAdmin {
    let clients: [RedisNodeAddress: RedisClient]

    /// Runs `body` with an admin that has a client for each master of the live cluster.
    static func with<T: Sendable>(_ body: (RedisClusterAdmin) async throws -> T) async throws -> T {
        let masters = try await LiveRedis.withClusterClient { try await $0.masters() }
        try #require(masters.count >= 3, "the live cluster should have at least 3 masters")
        return try await withClients(masters, [:]) { try await body(RedisClusterAdmin(clients: $0)) }
    }

    private static func withClients<T: Sendable>(
        _ remaining: [RedisNodeAddress],
        _ made: [RedisNodeAddress: RedisClient],
        _ body: ([RedisNodeAddress: RedisClient]) async throws -> T
    ) async throws -> T {
        guard let node = remaining.first else { return try await body(made) }
        return try await LiveRedis.withNodeClient(node) { client in
            var made = made
            made[node] = client
            return try await withClients(Array(remaining.dropFirst()), made, body)
        }
    }

    var masters: [RedisNodeAddress] { clients.keys.sorted() }

    @discardableResult
    func send(_ node: RedisNodeAddress, _ command: RedisCommand) async throws -> RedisValue {
        try await clients[node]!.send(command)
    }

    func nodeID(_ node: RedisNodeAddress) async throws -> String {
        try #require(try await send(node, RedisCommand("CLUSTER", "MYID")).string)
    }

    /// The master that serves `slot`, as `node` sees it.
    func owner(of slot: HashSlot, accordingTo node: RedisNodeAddress) async throws -> RedisNodeAddress? {
        let reply = try await send(node, RedisCommand("CLUSTER", "SLOTS"))
        return try RedisClusterTopology(clusterSlots: reply, queriedNode: node).node(serving: slot)
    }

    /// Marks `slot` as migrating from `source` to `target` on both.
    func beginMigration(_ slot: HashSlot, from source: RedisNodeAddress, to target: RedisNodeAddress) async throws {
        let sourceID = try await nodeID(source)
        let targetID = try await nodeID(target)
        try await send(target, RedisCommand("CLUSTER", "SETSLOT", Int(slot.rawValue), "IMPORTING", sourceID))
        try await send(source, RedisCommand("CLUSTER", "SETSLOT", Int(slot.rawValue), "MIGRATING", targetID))
    }

    /// Moves the given keys of a migrating slot from `source` to `target`.
    func migrateKeys(_ keys: [[UInt8]], from source: RedisNodeAddress, to target: RedisNodeAddress) async throws {
        guard !keys.isEmpty else { return }
        let arguments: [[UInt8]] =
            ["MIGRATE", target.host, String(target.port), "", "0", "5000", "KEYS"].map { Array($0.utf8) } + keys
        try await send(source, RedisCommand(arguments: arguments))
    }

    /// Moves whatever keys `source` still holds in `slot`, then gives the slot to `target` on every master.
    func finishMigration(_ slot: HashSlot, from source: RedisNodeAddress, to target: RedisNodeAddress) async throws {
        while true {
            let reply = try await send(source, RedisCommand("CLUSTER", "GETKEYSINSLOT", Int(slot.rawValue), 100))
            let keys = try #require(reply.array).compactMap(\.bytes)
            if keys.isEmpty { break }
            try await migrateKeys(keys, from: source, to: target)
        }
        let targetID = try await nodeID(target)
        // The target gets the highest config epoch first, so that its claim wins over any older gossip about the
        // slot (with replicas in the cluster, a stale claim could otherwise win, and the slot ping-pong between two
        // masters with MOVED for good). Then the target, the source, and everyone else.
        _ = try await send(target, RedisCommand("CLUSTER", "BUMPEPOCH"))
        let order = [target, source] + masters.filter { $0 != target && $0 != source }
        for node in order {
            try await send(node, RedisCommand("CLUSTER", "SETSLOT", Int(slot.rawValue), "NODE", targetID))
        }
    }

    /// Moves `slot`, keys included, from `source` to `target`.
    func move(_ slot: HashSlot, from source: RedisNodeAddress, to target: RedisNodeAddress) async throws {
        try await beginMigration(slot, from: source, to: target)
        try await finishMigration(slot, from: source, to: target)
    }

    /// Puts `slot` back on `owner` whatever state a failed test left it in: clears migration marks, moves it back
    /// if needed, then waits for the cluster to be healthy.
    func restore(_ slot: HashSlot, to owner: RedisNodeAddress) async throws {
        for node in masters {
            try await send(node, RedisCommand("CLUSTER", "SETSLOT", Int(slot.rawValue), "STABLE"))
        }
        for node in masters where node != owner {
            let keys = try await send(node, RedisCommand("CLUSTER", "COUNTKEYSINSLOT", Int(slot.rawValue)))
            if try await self.owner(of: slot, accordingTo: node) == node || (keys.integer ?? 0) > 0 {
                try await move(slot, from: node, to: owner)
            }
        }
        try await expectHealthy()
    }

    /// Waits (up to 15 s) until every master reports `cluster_state:ok` with all 16384 slots served and agrees on
    /// the slot map; records an issue if that never happens.
    func expectHealthy(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        var last = ""
        for _ in 0..<150 {
            var healthy = true
            var maps: [RedisClusterTopology] = []
            for node in masters {
                let info = try await send(node, RedisCommand("CLUSTER", "INFO")).string ?? ""
                healthy = healthy && info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
                last = "\(node): \(info.split(separator: "\r\n").prefix(3))"
                let slots = try await send(node, RedisCommand("CLUSTER", "SLOTS"))
                maps.append(try RedisClusterTopology(clusterSlots: slots, queriedNode: node))
            }
            let owners = maps.map { map in (0..<HashSlot.count).map { map.node(serving: HashSlot(rawValue: $0)!) } }
            if healthy, Set(owners).count == 1, maps[0].servedSlotCount == HashSlot.count {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the cluster did not become healthy: \(last)", sourceLocation: sourceLocation)
    }
}
