import ArgumentParser
import Foundation
import Logging
import RedisCluster
import TimelineService
import Wire

/// `memory`: Redis memory per home-timeline entry as the TimelineService stores it, beside the 8 bytes an id needs
/// and beside the same timelines stored the naive way.
struct MemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Redis bytes per home-timeline entry: our layout, the naive layout, and the 8 bytes of an id."
    )

    @OptionGroup var servers: ServerOptions

    @Option(help: "Home timelines filled per layout.")
    var timelines: Int = 100

    @Option(help: "Entries per timeline (the service keeps 800).")
    var entries: Int = 800

    func validate() throws {
        guard timelines > 0, (1...1024).contains(entries) else {
            throw ValidationError(
                "--timelines must be positive, --entries 1 to 1024 (the listpack limit the service sets)")
        }
    }

    /// How one set of timelines is stored.
    enum Layout: CaseIterable {
        /// Ours: a list of 8-byte members (``TimelineMember``), newest first.
        case list
        /// Ours until 5 Dec: a sorted set of the same members, every score 0; a listpack up to 1024 entries.
        case compact
        /// Score = the id as a double, member = the id in decimal; still a listpack under the service's 1024 limit.
        case naiveListpack
        /// The naive layout as Redis's default thresholds (128 entries) store 800 entries: a skiplist.
        case naiveSkiplist

        var description: (member: String, score: String, thresholds: String) {
            switch self {
            case .list: ("8-byte big-endian id (a list)", "", "Redis default (8 KB list nodes)")
            case .compact: ("8-byte big-endian id", "0", "1024 entries")
            case .naiveListpack: ("id in decimal", "id as double", "1024 entries")
            case .naiveSkiplist: ("id in decimal", "id as double", "Redis default (128 entries)")
            }
        }
    }

    func run() async throws {
        var logger = Logger(label: "store-benchmark")
        logger.logLevel = .warning
        printMachineLine("memory")
        guard let seeds = RedisNodeAddress.list(servers.redis) else {
            throw BenchmarkFailure("--redis takes a host:port list")
        }
        let redis = RedisClient(configuration: RedisClient.Configuration(mode: .cluster(seeds: seeds)), logger: logger)
        let background = Task { try? await redis.run() }
        do {
            try await measure(redis)
        } catch {
            background.cancel()
            await background.value
            throw error
        }
        background.cancel()
        await background.value
        report("# load average \(loadAverage()) at end")
    }

    private func measure(_ redis: RedisClient) async throws {
        // So that the sorted-set rows stay listpacks up to 1024 entries, as the TimelineService kept them until 5 Dec
        // (homes are lists since; no other sorted set is that small, so the setting changes nothing else).
        _ = try await redis.onAllMasters(RedisCommand("CONFIG", "SET", "zset-max-listpack-entries", 1024))
        let nowMillis = Int64(Date().timeIntervalSince1970 * 1000)
        let contents = (0..<timelines).map { _ in Self.distinctIDs(entries, nowMillis: nowMillis) }
        var keysWritten: [String] = []
        var rows: [(Layout, encodings: Set<String>, bytes: [Int])] = []
        do {
            for layout in Layout.allCases {
                let owners = BenchmarkKeys.syntheticUserIDs(count: timelines)
                let keys = owners.map(BenchmarkKeys.home)
                keysWritten += keys
                try await fill(keys, with: contents, layout: layout, redis: redis)
                var inspect: [RedisCommand] = []
                for key in keys {
                    inspect += [
                        RedisCommand("MEMORY", "USAGE", key, "SAMPLES", 0).withKey(at: 2),
                        RedisCommand("OBJECT", "ENCODING", key).withKey(at: 2),
                        RedisCommand(layout == .list ? "LLEN" : "ZCARD", key: key),
                    ]
                }
                let replies = try await redis.pipelined(inspect, batchSize: 300)
                let bytes = stride(from: 0, to: replies.count, by: 3).map { Int(replies[$0].integer ?? 0) }
                let encodings = Set(stride(from: 1, to: replies.count, by: 3).map { replies[$0].string ?? "?" })
                let cards = Set(stride(from: 2, to: replies.count, by: 3).map { replies[$0].integer ?? 0 })
                guard cards == [Int64(entries)] else {
                    throw BenchmarkFailure("timelines hold \(cards) entries, not \(entries)")
                }
                rows.append((layout, encodings, bytes))
            }
        } catch {
            try await redis.deleteKeys(keysWritten)
            throw error
        }
        let deleted = try await redis.deleteKeys(keysWritten)

        report()
        report(
            "## Redis memory per home-timeline entry: \(timelines) timelines of \(entries) entries per layout, "
                + "MEMORY USAGE key SAMPLES 0 (whole key: entries, key name, object and set overhead)")
        report()
        let table = MarkdownTable(
            [
                "layout", "member", "score", "thresholds", "encoding", "bytes per timeline (mean)", "bytes per entry",
                "÷ 8 bytes",
            ],
            rightAligned: [5, 6, 7]
        )
        table.row(["raw: the id itself", "", "", "", "", String(8 * entries), "8.0", "1.00"])
        for (layout, encodings, bytes) in rows {
            let mean = Double(bytes.reduce(0, +)) / Double(bytes.count)
            let perEntry = mean / Double(entries)
            let (member, score, thresholds) = layout.description
            let name = layout == .list ? "ours" : layout == .compact ? "ours until 5 Dec" : "naive"
            table.row([
                name, member, score, thresholds, encodings.sorted().joined(separator: ", "),
                String(Int(mean.rounded())),
                fixed(perEntry, decimals: 1), ratio(perEntry, 8),
            ])
        }
        report()
        report(
            "# the naive skiplist rows are made without lowering the shared cluster's threshold: each set gets a 65-byte "
                + "member first (over zset-max-listpack-value 64, so Redis makes it a skiplist, as it would for any set over 128 "
                + "entries with default thresholds), then its \(entries) entries, then the 65-byte member is removed")
        report("# cleaned up: \(deleted) keys deleted")
    }

    private func fill(_ keys: [String], with contents: [[Int64]], layout: Layout, redis: RedisClient) async throws {
        let placeholder = [UInt8](repeating: UInt8(ascii: "x"), count: 65)
        var commands: [RedisCommand] = []
        for (key, ids) in zip(keys, contents) {
            let (name, words): (String, [[UInt8]]) =
                switch layout {
                case .list: ("RPUSH", ids.map(BenchmarkKeys.member))
                case .compact: ("ZADD", ids.flatMap { [Array("0".utf8), BenchmarkKeys.member($0)] })
                case .naiveListpack, .naiveSkiplist:
                    ("ZADD", ids.flatMap { [Double($0).redisArgument, Array(String($0).utf8)] })
                }
            if layout == .naiveSkiplist {
                commands.append(RedisCommand("ZADD", key: key, 0, placeholder))
            }
            commands.append(RedisCommand(arguments: [Array(name.utf8), Array(key.utf8)] + words, keyPositions: [1]))
            if layout == .naiveSkiplist {
                commands.append(RedisCommand("ZREM", key: key, placeholder))
            }
        }
        let replies = try await redis.pipelined(commands, batchSize: 300)
        if let failure = replies.first(where: { $0.errorMessage != nil }) {
            throw BenchmarkFailure("filling timelines failed: \(failure.errorMessage ?? "")")
        }
    }

    /// `count` distinct recent tweet ids, newest first.
    private static func distinctIDs(_ count: Int, nowMillis: Int64) -> [Int64] {
        var ids = Set<Int64>()
        while ids.count < count {
            ids.formUnion(BenchmarkKeys.recentTweetIDs(count: count - ids.count, nowMillis: nowMillis))
        }
        return ids.sorted(by: >)
    }
}

extension RedisCommand {
    /// The same command with argument `index` routed as its key (for `MEMORY USAGE key`, `OBJECT ENCODING key`).
    func withKey(at index: Int) -> RedisCommand {
        RedisCommand(arguments: arguments, keyPositions: [index])
    }
}
