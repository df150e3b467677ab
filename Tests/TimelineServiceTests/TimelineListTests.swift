import Testing
import Wire

@testable import RedisCluster
@testable import TimelineService

extension RedisLiveTests {
    /// Homes and profiles as lists kept in order by scripts (``TimelineScripts``), on the live cluster.
    @Suite("Timelines as lists")
    struct TimelineLists {
        private static let base = TweeterID.make(unixMillis: TweeterID.epochMillis + 2_000_000, shard: 9, sequence: 0)

        private static func entries(of key: String, redis: RedisClient) async throws -> [Int64] {
            let reply = try await redis.send(RedisCommand("LRANGE", key: key, 0, -1))
            return (reply.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
        }

        @Test func insertsInAnyOrderAndRepeatedKeepOneEntryEachNewestFirst() async throws {
            try await LiveRedis.withClusterClient { redis in
                let key = LiveRedis.uniquePrefix("list") + "{t}"
                let ids = (0..<200).map { Self.base + Int64($0) }
                // Every id twice, in a random order: singly (the insert in place) and in runs (the merge).
                let singles = (ids + ids).shuffled().flatMap {
                    TimelineCommands.add([$0], to: key, capacity: 1_000, trimSlack: 0)
                }
                _ = try await redis.pipeline(singles)
                #expect(try await Self.entries(of: key, redis: redis) == ids.reversed())
                // Runs of 10 go in one by one, runs of 40 are merged (``TimelineScripts/mergeAbove``).
                let runs = [10, 40, 10, 40, 40].map { Array(ids.shuffled().prefix($0)) }
                _ = try await redis.pipeline(
                    runs.flatMap { TimelineCommands.add($0, to: key, capacity: 1_000, trimSlack: 0) })
                #expect(try await Self.entries(of: key, redis: redis) == ids.reversed(), "no repeats after merges")
                _ = try await redis.send(RedisCommand("DEL", key: key))
            }
        }

        @Test func aFullTimelineKeepsItsNewestAndSkipsTweetsOlderThanAllItHolds() async throws {
            try await LiveRedis.withClusterClient { redis in
                let key = LiveRedis.uniquePrefix("list") + "{t}"
                let ids = (0..<20).map { Self.base + Int64($0) * 4 }
                _ = try await redis.pipeline(
                    ids.flatMap { TimelineCommands.add([$0], to: key, capacity: 10, trimSlack: 0) })
                #expect(try await Self.entries(of: key, redis: redis) == Array(ids.reversed().prefix(10)))
                // Older than every entry of a full timeline: not added, as a trim would have cut it.
                _ = try await redis.pipeline(TimelineCommands.add([ids[0]], to: key, capacity: 10, trimSlack: 0))
                #expect(try await Self.entries(of: key, redis: redis) == Array(ids.reversed().prefix(10)))
                // Older than the newest but inside the window: in its place, and the oldest leaves.
                let between = ids[15] - 1
                _ = try await redis.pipeline(TimelineCommands.add([between], to: key, capacity: 10, trimSlack: 0))
                let expected = (Array(ids.suffix(10)) + [between]).sorted(by: >).prefix(10)
                #expect(try await Self.entries(of: key, redis: redis) == Array(expected))
                _ = try await redis.send(RedisCommand("DEL", key: key))
            }
        }

        @Test func aMergeOfManyInterleavesWithoutRepeatsAndKeepsTheTimelinesExpiry() async throws {
            try await LiveRedis.withClusterClient { redis in
                let key = LiveRedis.uniquePrefix("list") + "{t}"
                let ids = (0..<60).map { Self.base + Int64($0) }
                // What fan-out wrote meanwhile: the newest of all, and every third of the rest.
                let delivered = [ids[59]] + stride(from: 10, to: 59, by: 3).map { ids[$0] }
                _ = try await redis.pipeline(
                    delivered.flatMap { TimelineCommands.add([$0], to: key, capacity: 50, trimSlack: 0) })
                let expiry = Int64(2_000_000_000_000)
                _ = try await redis.send(RedisCommand("PEXPIREAT", key: key, expiry))
                // A rebuild's newest 55 (some of them written already) into it: more than the merge threshold, all
                // older than its first entry, so they are merged between its entries.
                let rebuilt = Array(ids.prefix(58).suffix(55))
                #expect(rebuilt.count > TimelineScripts.mergeAbove)
                _ = try await redis.pipeline(TimelineCommands.add(rebuilt, to: key, capacity: 50, trimSlack: 0))
                #expect(try await Self.entries(of: key, redis: redis) == Array(ids.reversed().prefix(50)))
                let kept = try await redis.send(RedisCommand("PEXPIRETIME", key: key))
                #expect(kept.integer == expiry)
                _ = try await redis.send(RedisCommand("DEL", key: key))
            }
        }

        @Test func pagesHonourBothExclusiveBounds() async throws {
            try await LiveRedis.withClusterClient { redis in
                let key = LiveRedis.uniquePrefix("list") + "{t}"
                let ids = (0..<30).map { Self.base + Int64($0) * 3 }
                _ = try await redis.pipeline(TimelineCommands.add(ids, to: key, capacity: 100, trimSlack: 0))
                func page(maxID: Int64?, sinceID: Int64?, limit: Int) async throws -> [Int64] {
                    let reply = try await redis.send(
                        TimelineCommands.newestFirst(key, maxID: maxID, sinceID: sinceID, limit: limit))
                    return (reply.array ?? []).compactMap { $0.bytes.flatMap(TimelineKeys.id(fromMember:)) }
                }
                let newestFirst = Array(ids.reversed())
                #expect(try await page(maxID: nil, sinceID: nil, limit: 4) == Array(newestFirst.prefix(4)))
                #expect(try await page(maxID: ids[20], sinceID: nil, limit: 3) == [ids[19], ids[18], ids[17]])
                // A bound that is not an entry (between two ids) pages from where it would be.
                #expect(try await page(maxID: ids[20] + 1, sinceID: nil, limit: 2) == [ids[20], ids[19]])
                #expect(try await page(maxID: nil, sinceID: ids[27], limit: 10) == [ids[29], ids[28]])
                #expect(try await page(maxID: ids[10], sinceID: ids[7], limit: 10) == [ids[9], ids[8]])
                #expect(try await page(maxID: ids[0], sinceID: nil, limit: 10).isEmpty)
                #expect(try await page(maxID: nil, sinceID: nil, limit: -1) == newestFirst)
                #expect(try await page(maxID: nil, sinceID: nil, limit: 0).isEmpty)
                #expect(try await page(maxID: ids[20], sinceID: nil, limit: 0).isEmpty)
                _ = try await redis.send(RedisCommand("DEL", key: key))
            }
        }
    }
}
