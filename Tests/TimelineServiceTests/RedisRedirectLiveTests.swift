import Testing

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// `MOVED` and `ASK` on the live cluster. Every test puts the slots it moves back and checks that the cluster
    /// ends with all 16384 slots served and `cluster_state:ok`.
    @Suite struct Redirects {
        @Test func aStaleSlotMapIsRepairedByMovedReplies() async throws {
            let prefix = LiveRedis.uniquePrefix("stale")
            try await LiveRedis.withClusterClient { client in
                let truth = try await client.currentTopology()
                let masters = truth.masters
                var stale = truth
                for raw in 0..<HashSlot.count {
                    let slot = HashSlot(rawValue: raw)!
                    let owner = masters.firstIndex(of: truth.node(serving: slot)!)!
                    stale.assign(slot, to: masters[(owner + 1) % masters.count])
                }
                client.setTopology(stale)

                let keys = (0..<200).map { "\(prefix)\($0)" }
                let replies = try await client.pipeline(
                    keys.map { RedisCommand("SET", key: $0, $0) } + keys.map { RedisCommand("GET", key: $0) })
                #expect(
                    replies == Array(repeating: .simpleString("OK"), count: 200) + keys.map { RedisValue(bulk: $0) })

                let repaired = try await client.currentTopology()
                for key in keys {
                    #expect(repaired.node(serving: HashSlot(key: key)) == truth.node(serving: HashSlot(key: key)))
                }
                _ = try await client.pipeline(keys.map { RedisCommand("DEL", key: $0) })
            }
        }

        @Test func theClientFollowsASlotMovedBetweenMasters() async throws {
            let key = LiveRedis.uniquePrefix("moved") + "key"
            let slot = HashSlot(key: key)
            try await RedisClusterAdmin.with { admin in
                try await LiveRedis.withClusterClient { client in
                    let source = try #require(try await client.currentTopology().node(serving: slot))
                    let target = try #require(admin.masters.first { $0 != source })
                    #expect(try await client.send(RedisCommand("SET", key: key, "before")) == .simpleString("OK"))
                    do {
                        try await admin.move(slot, from: source, to: target)
                        #expect(try await admin.owner(of: slot, accordingTo: source) == target)

                        #expect(try await client.send(RedisCommand("GET", key: key)) == RedisValue(bulk: "before"))
                        #expect(try await client.currentTopology().node(serving: slot) == target)
                        #expect(try await client.send(RedisCommand("SET", key: key, "after")) == .simpleString("OK"))

                        try await admin.move(slot, from: target, to: source)
                        #expect(try await client.send(RedisCommand("GET", key: key)) == RedisValue(bulk: "after"))
                        #expect(try await client.currentTopology().node(serving: slot) == source)
                    } catch {
                        try? await admin.restore(slot, to: source)
                        throw error
                    }
                    try await admin.expectHealthy()
                    _ = try await client.send(RedisCommand("DEL", key: key))
                }
            }
        }

        @Test func askRedirectsServeKeysOfAMigratingSlot() async throws {
            let tag = "{\(LiveRedis.uniquePrefix("ask"))}"
            let (one, two, three, counter) = (tag + "one", tag + "two", tag + "three", tag + "counter")
            let slot = HashSlot(key: one)
            try await RedisClusterAdmin.with { admin in
                try await LiveRedis.withClusterClient { client in
                    let source = try #require(try await client.currentTopology().node(serving: slot))
                    let target = try #require(admin.masters.first { $0 != source })
                    _ = try await client.pipeline([
                        RedisCommand("SET", key: one, "1"), RedisCommand("SET", key: two, "2"),
                    ])
                    do {
                        try await admin.beginMigration(slot, from: source, to: target)
                        try await admin.migrateKeys([Array(one.utf8)], from: source, to: target)

                        // `one` is on the target now and `two` still on the source; new keys go to the target.
                        let replies = try await client.pipeline([
                            RedisCommand("GET", key: one),
                            RedisCommand("GET", key: two),
                            RedisCommand("SET", key: three, "3"),
                            RedisCommand("GET", key: three),
                            RedisCommand("INCR", key: counter),
                            RedisCommand("INCR", key: counter),
                        ])
                        #expect(
                            replies == [
                                RedisValue(bulk: "1"), RedisValue(bulk: "2"), .simpleString("OK"),
                                RedisValue(bulk: "3"),
                                .integer(1), .integer(2),
                            ])
                        #expect(try await client.send(RedisCommand("GET", key: one)) == RedisValue(bulk: "1"))
                        #expect(try await client.currentTopology().node(serving: slot) == source, "ASK changes no map")

                        try await admin.finishMigration(slot, from: source, to: target)
                        #expect(try await client.send(RedisCommand("GET", key: two)) == RedisValue(bulk: "2"))
                        #expect(try await client.currentTopology().node(serving: slot) == target)

                        try await admin.move(slot, from: target, to: source)
                        let after = try await client.pipeline(
                            [one, two, three, counter].map { RedisCommand("GET", key: $0) })
                        #expect(after == ["1", "2", "3", "2"].map { RedisValue(bulk: $0) })
                    } catch {
                        try? await admin.restore(slot, to: source)
                        throw error
                    }
                    try await admin.expectHealthy()
                    _ = try await client.send(RedisCommand("DEL", keys: [one, two, three, counter]))
                }
            }
        }
    }
}
