extension RedisProbe {
    /// Marks the home timelines of `users` built, as reading them once would: fan-out writes only those (the others
    /// are rebuilt from the store on their next read). One script per master and chunk; each master sets the keys it
    /// serves and skips the rest (`redis.pcall` returns the refusal of a key served elsewhere instead of raising it).
    func markHomesBuilt(_ users: [Int64]) async throws {
        let script = """
            #!lua flags=allow-cross-slot-keys
            for i = 1, #ARGV do redis.pcall('SET', 'tl:hb:{' .. ARGV[i] .. '}', '1', 'EX', 3600) end
            return 0
            """
        for master in try await masters() {
            for start in stride(from: 0, to: users.count, by: 10_000) {
                let chunk = users[start..<min(start + 10_000, users.count)].map { RedisArgument(String($0)) }
                _ = try await send(["EVAL", RedisArgument(script), "0"] + chunk, to: master)
            }
        }
    }

    /// Whether the timeline `key` holds `tweet`: `ZSCORE` on the public timeline (the one sorted set), `LPOS` on homes
    /// and profiles (lists).
    func timeline(_ key: String, holds tweet: Int64) async throws -> Bool {
        !(try await send([key == "tl:public" ? "ZSCORE" : "LPOS", RedisArgument(key), .member(tweet)]).isNull)
    }

    /// The `host:port` of every master that serves slots.
    func masters() async throws -> [String] {
        var found: Set<String> = []
        for range in try await send(["CLUSTER", "SLOTS"]).array ?? [] {
            guard let fields = range.array, fields.count >= 3, let node = fields[2].array, node.count >= 2,
                let host = node[0].string, let port = node[1].integer
            else { continue }
            found.insert("\(host):\(port)")
        }
        return found.sorted()
    }
}
