import Testing

@testable import RedisCluster

@Suite struct RedisPipelinePlanTests {
    private static let a = RedisNodeAddress(host: "127.0.0.1", port: 1)
    private static let b = RedisNodeAddress(host: "127.0.0.1", port: 2)

    /// Slots below 8192 on `a`, the rest on `b`.
    private static let topology: RedisClusterTopology = {
        func entry(_ first: Int64, _ last: Int64, _ node: RedisNodeAddress) -> RedisValue {
            .array([
                .integer(first), .integer(last), .array([RedisValue(bulk: node.host), .integer(Int64(node.port))]),
            ])
        }
        return try! RedisClusterTopology(
            clusterSlots: .array([entry(0, 8191, a), entry(8192, 16383, b)]), queriedNode: a)
    }()

    /// A key whose slot is on `node` in ``topology``.
    private static func key(on node: RedisNodeAddress, _ index: Int) -> String {
        (0...).lazy.map { "k\(index)-\($0)" }.first { topology.node(serving: HashSlot(key: $0)) == node }!
    }

    private static func plan(_ commands: [RedisCommand], maxRedirects: Int = 5) throws -> RedisPipelinePlan {
        try RedisPipelinePlan(commands: commands, maxRedirects: maxRedirects, followsRedirects: true)
    }

    @Test func groupsByNodeKeepingTheCallersOrder() throws {
        let commands = [
            RedisCommand("GET", key: Self.key(on: Self.a, 0)),
            RedisCommand("GET", key: Self.key(on: Self.b, 1)),
            RedisCommand("GET", key: Self.key(on: Self.a, 2)),
            RedisCommand("PING"),
        ]
        let batches = try Self.plan(commands).batches(in: Self.topology, fallback: Self.b)
        #expect(batches.count == 2)
        #expect(batches[0].node == Self.a && batches[0].positions == [0, 2])
        #expect(batches[1].node == Self.b && batches[1].positions == [1, 3])
        #expect(batches[0].commands == [commands[0], commands[2]])
    }

    @Test func completesWhenEveryCommandHasItsReply() throws {
        let commands = [
            RedisCommand("GET", key: Self.key(on: Self.a, 0)), RedisCommand("GET", key: Self.key(on: Self.b, 1)),
        ]
        var plan = try Self.plan(commands)
        var feedback = RedisPipelinePlan.Feedback()
        for batch in plan.batches(in: Self.topology, fallback: Self.a) {
            try plan.record([RedisValue(bulk: "\(batch.node.port)")], for: batch, into: &feedback)
        }
        #expect(plan.isComplete)
        #expect(plan.replies == [RedisValue(bulk: "1"), RedisValue(bulk: "2")])
        #expect(feedback.moved.isEmpty && !feedback.mustPause)
    }

    @Test func askSendsAskingAndTheCommandToTheTargetOnce() throws {
        let key = Self.key(on: Self.a, 0)
        let command = RedisCommand("GET", key: key)
        var plan = try Self.plan([command, RedisCommand("GET", key: Self.key(on: Self.a, 1))])
        var feedback = RedisPipelinePlan.Feedback()
        let first = plan.batches(in: Self.topology, fallback: Self.a)
        try plan.record(
            [.error("ASK \(HashSlot(key: key)) \(Self.b)"), RedisValue(bulk: "stays")], for: first[0], into: &feedback
        )
        #expect(!plan.isComplete && feedback.moved.isEmpty)

        let second = plan.batches(in: Self.topology, fallback: Self.a)
        #expect(second.count == 1 && second[0].node == Self.b)
        #expect(second[0].commands == [RedisCommand("ASKING"), command])
        try plan.record([.simpleString("OK"), RedisValue(bulk: "moved")], for: second[0], into: &feedback)
        #expect(plan.replies == [RedisValue(bulk: "moved"), RedisValue(bulk: "stays")])
    }

    @Test func movedIsReportedAndTheCommandFollowsTheNewMap() throws {
        let key = Self.key(on: Self.a, 0)
        let slot = HashSlot(key: key)
        var plan = try Self.plan([RedisCommand("SET", key: key, "v")])
        var feedback = RedisPipelinePlan.Feedback()
        try plan.record(
            [.error("MOVED \(slot) \(Self.b)")], for: plan.batches(in: Self.topology, fallback: Self.a)[0],
            into: &feedback)
        #expect(feedback.moved.map(\.0) == [slot] && feedback.moved.map(\.1) == [Self.b])

        var updated = Self.topology
        updated.assign(slot, to: Self.b)
        let retry = plan.batches(in: updated, fallback: Self.a)
        #expect(retry.map(\.node) == [Self.b])
        #expect(retry[0].commands.count == 1, "MOVED needs no ASKING")
    }

    @Test func redirectsAreBounded() throws {
        let key = Self.key(on: Self.a, 0)
        var plan = try Self.plan([RedisCommand("GET", key: key)], maxRedirects: 2)
        var feedback = RedisPipelinePlan.Feedback()
        let ask = RedisValue.error("ASK \(HashSlot(key: key)) \(Self.a)")
        try plan.record([ask], for: plan.batches(in: Self.topology, fallback: Self.a)[0], into: &feedback)
        try plan.record(
            [.simpleString("OK"), ask], for: plan.batches(in: Self.topology, fallback: Self.a)[0], into: &feedback)
        #expect {
            try plan.record(
                [.simpleString("OK"), ask], for: plan.batches(in: Self.topology, fallback: Self.a)[0], into: &feedback)
        } throws: { ($0 as? RedisError)?.code == .tooManyRedirects }
    }

    @Test func tryAgainAsksForAPause() throws {
        var plan = try Self.plan([RedisCommand("MGET", keys: ["{t}1", "{t}2"])])
        var feedback = RedisPipelinePlan.Feedback()
        let batch = plan.batches(in: Self.topology, fallback: Self.a)[0]
        try plan.record(
            [.error("TRYAGAIN Multiple keys request during rehashing of slot")], for: batch, into: &feedback)
        #expect(feedback.mustPause && feedback.redirects == 1 && !plan.isComplete)
    }

    @Test func aStandaloneServerKeepsRedirectsAsResults() throws {
        var plan = try RedisPipelinePlan(
            commands: [RedisCommand("GET", key: "x")], maxRedirects: 5, followsRedirects: false)
        var feedback = RedisPipelinePlan.Feedback()
        try plan.record(
            [.error("MOVED 1 127.0.0.1:2")], for: plan.batches(in: Self.topology, fallback: Self.a)[0], into: &feedback)
        #expect(plan.isComplete && plan.replies == [.error("MOVED 1 127.0.0.1:2")])
    }

    @Test func aBatchThatCouldNotBeSentIsRetriedUntilTheBudgetIsSpent() throws {
        var plan = try Self.plan([RedisCommand("GET", key: "x")], maxRedirects: 1)
        let batch = plan.batches(in: Self.topology, fallback: Self.a)[0]
        let down = RedisError(.unavailable, "down")
        try plan.retry(batch, after: down)
        #expect(!plan.isComplete)
        #expect(throws: down) { try plan.retry(batch, after: down) }
    }

    @Test func aWrongReplyCountIsAProtocolError() throws {
        var plan = try Self.plan([RedisCommand("GET", key: "x")])
        var feedback = RedisPipelinePlan.Feedback()
        let batch = plan.batches(in: Self.topology, fallback: Self.a)[0]
        #expect {
            try plan.record([], for: batch, into: &feedback)
        } throws: { ($0 as? RedisError)?.code == .protocolError }
    }
}
