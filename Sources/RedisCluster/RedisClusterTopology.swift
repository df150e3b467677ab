/// Which master serves each of the 16384 slots: the client's map of a Redis Cluster (or of one standalone server,
/// which serves every slot).
///
/// Built from a `CLUSTER SLOTS` reply, patched slot by slot when a node answers `MOVED`, and replaced whole on the
/// next refresh. Replicas are ignored: every command goes to a master.
struct RedisClusterTopology: Sendable, Hashable {
    /// Marks a slot that no node claimed in the last refresh.
    private static let unassigned = UInt16.max

    /// Every node that owns at least one slot, or that a `MOVED` named since the last refresh.
    private(set) var nodes: [RedisNodeAddress]
    /// For each slot, an index into `nodes`, or `unassigned`.
    private var owners: [UInt16]
    /// For each of `nodes`, how many slots it serves; kept so that ``masters`` does not scan every slot.
    private var slotCounts: [Int]

    /// One server that serves every slot.
    init(standalone address: RedisNodeAddress) {
        nodes = [address]
        owners = Array(repeating: 0, count: HashSlot.count)
        slotCounts = [HashSlot.count]
    }

    /// Reads a `CLUSTER SLOTS` reply.
    ///
    /// Each entry is `[first slot, last slot, [host, port, id, ...], replicas...]`. An empty host means the node
    /// that answered did not know its own address; it then stands for `queriedNode`'s host.
    ///
    /// - Throws: ``RedisError/Code/protocolError`` for a reply of another shape, ``RedisError/Code/clusterDown`` when
    ///   it names no slot at all.
    init(clusterSlots reply: RedisValue, queriedNode: RedisNodeAddress) throws(RedisError) {
        guard let entries = reply.array else {
            throw .protocolError("CLUSTER SLOTS did not return an array: \(reply)")
        }
        nodes = []
        owners = Array(repeating: Self.unassigned, count: HashSlot.count)
        slotCounts = []
        var indexByNode: [RedisNodeAddress: UInt16] = [:]
        for entry in entries {
            guard let fields = entry.array, fields.count >= 3,
                let first = fields[0].integer, let last = fields[1].integer,
                let master = fields[2].array, master.count >= 2,
                let host = master[0].string, let port = master[1].integer,
                first >= 0, first <= last, last < HashSlot.count, (1...65535).contains(port)
            else {
                throw .protocolError("CLUSTER SLOTS returned an entry it should not: \(entry)")
            }
            let address = RedisNodeAddress(host: host.isEmpty ? queriedNode.host : host, port: Int(port))
            let index: UInt16
            if let known = indexByNode[address] {
                index = known
            } else {
                index = UInt16(nodes.count)
                indexByNode[address] = index
                nodes.append(address)
                slotCounts.append(0)
            }
            for slot in Int(first)...Int(last) {
                if owners[slot] != Self.unassigned {
                    slotCounts[Int(owners[slot])] -= 1
                }
                owners[slot] = index
                slotCounts[Int(index)] += 1
            }
        }
        guard !nodes.isEmpty else {
            throw RedisError(.clusterDown, "CLUSTER SLOTS from \(queriedNode) assigns no slot")
        }
    }

    /// The master that serves `slot`; `nil` when no node claimed it.
    func node(serving slot: HashSlot) -> RedisNodeAddress? {
        let index = owners[Int(slot.rawValue)]
        return index == Self.unassigned ? nil : nodes[Int(index)]
    }

    /// The masters that serve at least one slot, in a stable order.
    var masters: [RedisNodeAddress] {
        zip(nodes, slotCounts).filter { $0.1 > 0 }.map(\.0).sorted()
    }

    /// How many slots some node serves (16384 in a healthy cluster).
    var servedSlotCount: Int {
        slotCounts.reduce(0, +)
    }

    /// Records that `address` now serves `slot`, as a `MOVED` reply said.
    mutating func assign(_ slot: HashSlot, to address: RedisNodeAddress) {
        let index: UInt16
        if let known = nodes.firstIndex(of: address) {
            index = UInt16(known)
        } else {
            index = UInt16(nodes.count)
            nodes.append(address)
            slotCounts.append(0)
        }
        let previous = owners[Int(slot.rawValue)]
        if previous != Self.unassigned {
            slotCounts[Int(previous)] -= 1
        }
        owners[Int(slot.rawValue)] = index
        slotCounts[Int(index)] += 1
    }
}
