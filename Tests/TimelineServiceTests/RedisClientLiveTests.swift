import Testing

@testable import RedisCluster
@testable import TimelineService

/// Tests against the live Redis Cluster (`TWEETER_REDIS_CLUSTER`). They fail, not skip, without it. Serialized,
/// and with the redirect tests nested inside, because those move slots and the key counts here must not race them.
@Suite(.serialized) struct RedisLiveTests {
    @Suite struct Client {
        /// A key for each index whose slot is served by `node`.
        static func keys(
            _ prefix: String, on node: RedisNodeAddress, in topology: RedisClusterTopology, count: Int
        ) -> [String] {
            var keys: [String] = []
            var index = 0
            while keys.count < count {
                let key = "\(prefix)\(index)"
                if topology.node(serving: HashSlot(key: key)) == node {
                    keys.append(key)
                }
                index += 1
            }
            return keys
        }

        @Test func keySlotsMatchClusterKeyslot() async throws {
            let keys =
                [
                    "foo", "bar", "123456789", "{user1000}.following", "{user1000}.followers", "foo{}{bar}",
                    "foo{{bar}}zap", "foo{bar}{zap}", "{bar", "{}", "}{", "timeline:42", "tweet:{42}:body", "",
                    "ключ", "a{b}c{d}e",
                ] + (0..<50).map { "random:\($0 * 7919)" }
            try await LiveRedis.withClusterClient { client in
                let replies = try await client.pipeline(keys.map { RedisCommand("CLUSTER", "KEYSLOT", $0) })
                for (key, reply) in zip(keys, replies) {
                    #expect(reply.integer == Int64(HashSlot(key: key).rawValue), "CLUSTER KEYSLOT \(key)")
                }
            }
        }

        @Test func aPipelineOfAThousandMixedCommandsKeepsItsOrder() async throws {
            let prefix = LiveRedis.uniquePrefix("pipeline")
            try await LiveRedis.withClusterClient { client in
                var commands: [RedisCommand] = []
                var expected: [RedisValue] = []
                for index in 0..<1000 {
                    switch index % 4 {
                    case 0:
                        commands.append(RedisCommand("SET", key: "\(prefix)\(index)", "value-\(index)"))
                        expected.append(.simpleString("OK"))
                    case 1:
                        commands.append(RedisCommand("GET", key: "\(prefix)\(index - 1)"))
                        expected.append(RedisValue(bulk: "value-\(index - 1)"))
                    case 2:
                        commands.append(RedisCommand("ZADD", key: "\(prefix)z\(index)", Double(index) + 0.5, "member"))
                        expected.append(.integer(1))
                    default:
                        commands.append(RedisCommand("ZSCORE", key: "\(prefix)z\(index - 1)", "member"))
                        expected.append(RedisValue(bulk: "\(index - 1).5"))
                    }
                }
                let topology = try await client.currentTopology()
                let owners = Set(commands.compactMap { try? $0.slot() }.compactMap { topology.node(serving: $0) })
                #expect(owners.count == topology.masters.count, "the keys should cover every master")

                let replies = try await client.pipeline(commands)
                #expect(replies.count == 1000)
                for (index, (reply, wanted)) in zip(replies, expected).enumerated() where reply != wanted {
                    Issue.record("reply \(index) is \(reply), expected \(wanted)")
                }

                let keys = commands.filter { $0.name != "GET" && $0.name != "ZSCORE" }.map { $0.keys[0] }
                let deleted = try await client.pipeline(keys.map { RedisCommand("DEL", keys: [$0]) })
                #expect(deleted.allSatisfy { $0 == .integer(1) })
            }
        }

        @Test func dbsizeOnAllMastersCountsEveryKey() async throws {
            let prefix = LiveRedis.uniquePrefix("dbsize")
            let keys = (0..<300).map { "\(prefix)\($0)" }
            try await LiveRedis.withClusterClient { client in
                func total() async throws -> Int64 {
                    let sizes = try await client.onAllMasters(RedisCommand("DBSIZE"))
                    #expect(sizes.count == (try await client.masters().count))
                    return sizes.compactMap(\.integer).reduce(0, +)
                }
                let before = try await total()
                _ = try await client.pipeline(keys.map { RedisCommand("SET", key: $0, "x") })
                #expect(try await total() - before == Int64(keys.count))

                let found = try await client.keys(matching: "\(prefix)*", pageSize: 50)
                #expect(Set(found.map { String(decoding: $0, as: UTF8.self) }) == Set(keys))
                #expect(found.count == keys.count)

                _ = try await client.pipeline(keys.map { RedisCommand("DEL", key: $0) })
                #expect(try await total() == before)
            }
        }

        @Test func concurrentPipelinesShareTheConnections() async throws {
            let prefix = LiveRedis.uniquePrefix("concurrent")
            try await LiveRedis.withClusterClient(connectionsPerNode: 2) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            for round in 0..<25 {
                                let keys = (0..<20).map { "\(prefix)\(worker):\($0)" }
                                let commands = keys.map { RedisCommand("INCRBY", key: $0, round + 1) }
                                let replies = try await client.pipeline(commands)
                                let total = Int64((round + 1) * (round + 2) / 2)
                                #expect(replies == Array(repeating: .integer(total), count: 20))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let keys = (0..<8).flatMap { worker in (0..<20).map { "\(prefix)\(worker):\($0)" } }
                _ = try await client.pipeline(keys.map { RedisCommand("DEL", key: $0) })
            }
        }

        @Test func serverErrorsAreValuesInPipelineRepliesAndThrownByPipelineAndSend() async throws {
            let key = LiveRedis.uniquePrefix("errors") + "list"
            try await LiveRedis.withClusterClient { client in
                let replies = try await client.pipelineReplies([
                    RedisCommand("RPUSH", key: key, "a"), RedisCommand("INCR", key: key),
                    RedisCommand("LLEN", key: key),
                ])
                #expect(replies[0] == .integer(1))
                #expect(replies[1].errorMessage?.hasPrefix("WRONGTYPE") == true)
                #expect(replies[2] == .integer(1))
                await #expect {
                    try await client.pipeline([RedisCommand("LLEN", key: key), RedisCommand("INCR", key: key)])
                } throws: {
                    ($0 as? RedisError)?.code == .serverError
                        && ($0 as? RedisError)?.message.contains("INCR (command 2 of 2)") == true
                }
                await #expect {
                    try await client.send(RedisCommand("INCR", key: key))
                } throws: { ($0 as? RedisError)?.code == .serverError }
                await #expect {
                    try await client.send(RedisCommand("MGET", keys: ["a", "b"]))
                } throws: { ($0 as? RedisError)?.code == .crossSlot }
                _ = try await client.send(RedisCommand("DEL", key: key))
            }
        }

        /// A node that is down costs a prompt error, not a connect attempt per call: after a failed connect the
        /// connection backs off, then tries again.
        @Test func aNodeThatIsDownFailsFastAndIsTriedAgainAfterABackoff() async throws {
            let nobody = RedisNodeAddress(host: "127.0.0.1", port: 1)  // nothing listens on port 1
            try await LiveRedis.withNodeClient(nobody) { client in
                func failure() async -> String {
                    do {
                        _ = try await client.send(RedisCommand("PING"))
                        return "no error"
                    } catch {
                        return "\(error)"
                    }
                }
                // Each send tries, then (the node being unavailable) retries once, which meets the pause.
                func pause(in message: String) -> Double? {
                    guard let range = message.range(of: "backing off for ") else { return nil }
                    return Double(message[range.upperBound...].prefix { $0 != " " })
                }
                let first = await failure()
                #expect(first.hasPrefix("unavailable") && (pause(in: first) ?? 1) <= 0.05, "\(first)")
                let second = await failure()
                #expect(
                    second.hasPrefix("unavailable") && pause(in: second) != nil,
                    "fails at once while backing off: \(second)")
                try await Task.sleep(for: .milliseconds(120))  // past the first pause of 50 ms
                let third = await failure()
                #expect(
                    (pause(in: third) ?? 0) > 0.05,
                    "tried again after the pause, failed, and now pauses twice as long: \(third)")
            }
        }

        @Test func standaloneModeTalksToOneServer() async throws {
            let prefix = LiveRedis.uniquePrefix("standalone")
            let topology = try await LiveRedis.withClusterClient { try await $0.currentTopology() }
            let node = topology.masters[0]
            let local = Self.keys(prefix, on: node, in: topology, count: 1)[0]
            let elsewhere = Self.keys(prefix, on: topology.masters[1], in: topology, count: 1)[0]
            try await LiveRedis.withNodeClient(node) { client in
                #expect(try await client.masters() == [node])
                #expect(try await client.send(RedisCommand("SET", key: local, "here")) == .simpleString("OK"))
                let replies = try await client.pipelineReplies([
                    RedisCommand("GET", key: local), RedisCommand("GET", key: elsewhere),
                ])
                #expect(replies[0] == RedisValue(bulk: "here"))
                #expect(replies[1].errorMessage?.hasPrefix("MOVED") == true, "a standalone client follows no redirect")
                #expect(try await client.send(RedisCommand("DEL", key: local)) == .integer(1))
            }
        }

        @Test func aKilledConnectionIsReplaced() async throws {
            let node = try await LiveRedis.withClusterClient { try await $0.masters()[0] }
            try await LiveRedis.withNodeClient(node) { client in
                let id = try #require(try await client.send(RedisCommand("CLIENT", "ID")).integer)
                let killed = try await LiveRedis.withNodeClient(node) { killer in
                    try await killer.send(RedisCommand("CLIENT", "KILL", "ID", id))
                }
                #expect(killed == .integer(1))
                var newID: Int64?
                for _ in 0..<100 where newID == nil {
                    // The first tries may still meet the dead connection; the client must not get stuck on it.
                    newID = try? await client.send(RedisCommand("CLIENT", "ID")).integer
                    if newID == nil { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(newID != nil && newID != id)
            }
        }

        @Test func aSlowReplyTimesOutAndTheClientRecovers() async throws {
            let key = LiveRedis.uniquePrefix("timeout") + "empty-list"
            let topology = try await LiveRedis.withClusterClient { try await $0.currentTopology() }
            let node = try #require(topology.node(serving: HashSlot(key: key)))
            let client = RedisClient(
                configuration: RedisClient.Configuration(
                    mode: .standalone(node), connectionsPerNode: 1, commandTimeout: .milliseconds(200)),
                logger: LiveRedis.logger
            )
            let started = ContinuousClock.now
            await #expect {
                try await client.send(RedisCommand("BLPOP", key: key, 2))
            } throws: { ($0 as? RedisError)?.code == .timeout }
            #expect(ContinuousClock.now - started < .seconds(1))
            #expect(try await client.send(RedisCommand("PING")) == .simpleString("PONG"))
            client.shutDown()
            await #expect {
                try await client.send(RedisCommand("PING"))
            } throws: { ($0 as? RedisError)?.code == .unavailable }
        }
    }
}
