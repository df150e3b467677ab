import Testing

@testable import RedisCluster

@Suite struct RedisClusterTopologyTests {
    private static let node1 = RedisNodeAddress(host: "127.0.0.1", port: 17001)
    private static let node2 = RedisNodeAddress(host: "127.0.0.1", port: 17002)
    private static let node3 = RedisNodeAddress(host: "127.0.0.1", port: 17003)

    private static func entry(_ first: Int64, _ last: Int64, host: String, port: Int64) -> RedisValue {
        .array([
            .integer(first), .integer(last),
            .array([RedisValue(bulk: host), .integer(port), RedisValue(bulk: "id\(port)"), .array([])]),
            .array([RedisValue(bulk: host), .integer(port + 100), RedisValue(bulk: "replica\(port)")]),
        ])
    }

    /// A three-master `CLUSTER SLOTS` reply as Redis 7 sends it, one master holding two ranges.
    private static let reply = RedisValue.array([
        entry(0, 5460, host: "127.0.0.1", port: 17001),
        entry(5461, 10922, host: "127.0.0.1", port: 17002),
        entry(10923, 16000, host: "127.0.0.1", port: 17003),
        entry(16001, 16383, host: "127.0.0.1", port: 17001),
    ])

    @Test func readsClusterSlots() throws {
        let topology = try RedisClusterTopology(clusterSlots: Self.reply, queriedNode: Self.node2)
        #expect(topology.masters == [Self.node1, Self.node2, Self.node3])
        #expect(topology.servedSlotCount == 16384)
        #expect(topology.node(serving: HashSlot(rawValue: 0)!) == Self.node1)
        #expect(topology.node(serving: HashSlot(rawValue: 5461)!) == Self.node2)
        #expect(topology.node(serving: HashSlot(rawValue: 16000)!) == Self.node3)
        #expect(topology.node(serving: HashSlot(rawValue: 16383)!) == Self.node1)
    }

    @Test func anEmptyHostMeansTheNodeThatAnswered() throws {
        let reply = RedisValue.array([Self.entry(0, 16383, host: "", port: 17002)])
        let topology = try RedisClusterTopology(clusterSlots: reply, queriedNode: Self.node2)
        #expect(topology.masters == [Self.node2])
    }

    @Test func unclaimedSlotsHaveNoNode() throws {
        let reply = RedisValue.array([Self.entry(0, 99, host: "127.0.0.1", port: 17001)])
        let topology = try RedisClusterTopology(clusterSlots: reply, queriedNode: Self.node1)
        #expect(topology.servedSlotCount == 100)
        #expect(topology.node(serving: HashSlot(rawValue: 100)!) == nil)
    }

    @Test func rejectsMalformedReplies() {
        #expect(throws: RedisError.self) {
            try RedisClusterTopology(clusterSlots: .integer(1), queriedNode: Self.node1)
        }
        #expect(throws: RedisError.self) {
            try RedisClusterTopology(
                clusterSlots: .array([.array([.integer(5), .integer(2)])]), queriedNode: Self.node1)
        }
        #expect(throws: RedisError.self) {
            try RedisClusterTopology(
                clusterSlots: .array([Self.entry(0, 16384, host: "h", port: 1)]), queriedNode: Self.node1
            )
        }
        #expect {
            try RedisClusterTopology(clusterSlots: .array([]), queriedNode: Self.node1)
        } throws: { ($0 as? RedisError)?.code == .clusterDown }
    }

    @Test func movedRepliesPatchOneSlot() throws {
        var topology = try RedisClusterTopology(clusterSlots: Self.reply, queriedNode: Self.node1)
        let slot = HashSlot(rawValue: 42)!
        let newcomer = RedisNodeAddress(host: "127.0.0.1", port: 17004)
        topology.assign(slot, to: newcomer)
        #expect(topology.node(serving: slot) == newcomer)
        #expect(topology.node(serving: HashSlot(rawValue: 43)!) == Self.node1)
        #expect(topology.masters.contains(newcomer))
    }

    @Test func standaloneServesEverySlot() {
        let topology = RedisClusterTopology(standalone: Self.node3)
        #expect(topology.servedSlotCount == 16384)
        #expect(topology.masters == [Self.node3])
    }

    @Test func parsesRedirects() {
        #expect(
            RedisRedirect(errorMessage: "MOVED 3999 127.0.0.1:6381", from: Self.node1)
                == .moved(HashSlot(rawValue: 3999)!, RedisNodeAddress(host: "127.0.0.1", port: 6381))
        )
        #expect(
            RedisRedirect(errorMessage: "ASK 3999 127.0.0.1:6381", from: Self.node1)
                == .ask(HashSlot(rawValue: 3999)!, RedisNodeAddress(host: "127.0.0.1", port: 6381))
        )
        #expect(
            RedisRedirect(errorMessage: "MOVED 7 :17003", from: Self.node1)
                == .moved(HashSlot(rawValue: 7)!, Self.node3), "an empty host is the replying node's"
        )
        #expect(
            RedisRedirect(errorMessage: "TRYAGAIN Multiple keys request during rehashing of slot", from: Self.node1)
                == .tryAgain)
        #expect(RedisRedirect(errorMessage: "MOVED 16384 127.0.0.1:1", from: Self.node1) == nil)
        #expect(RedisRedirect(errorMessage: "WRONGTYPE Operation against a key", from: Self.node1) == nil)
        #expect(RedisRedirect(errorMessage: "CLUSTERDOWN Hash slot not served", from: Self.node1) == nil)
    }

    @Test func parsesAddresses() {
        #expect(RedisNodeAddress("127.0.0.1:17001") == Self.node1)
        #expect(RedisNodeAddress("[::1]:6379") == RedisNodeAddress(host: "::1", port: 6379))
        #expect(RedisNodeAddress("127.0.0.1") == nil)
        #expect(RedisNodeAddress(":6379") == nil)
        #expect(RedisNodeAddress.list("127.0.0.1:17001, 127.0.0.1:17002") == [Self.node1, Self.node2])
        #expect(RedisNodeAddress.list("127.0.0.1:17001,nonsense") == nil)
        #expect(RedisNodeAddress.list("") == nil)
    }
}
