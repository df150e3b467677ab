extension RedisClient {
    /// Every key that matches a `SCAN` glob pattern, collected from all masters.
    ///
    /// Runs `SCAN` to completion on each master concurrently. Like `SCAN`, it may miss keys written or moved while
    /// it runs and may return a key twice; meant for maintenance and tests, not for request paths.
    ///
    /// - Parameters:
    ///   - pattern: a glob such as `timeline:*`; use a prefix to keep the scan cheap to filter.
    ///   - pageSize: the `COUNT` hint for each `SCAN` call.
    /// - Throws: ``RedisError/Code/serverError`` if a master rejects `SCAN`; the transport errors of
    ///   ``pipeline(_:)``.
    public func keys(matching pattern: String, pageSize: Int = 1000) async throws(RedisError) -> [[UInt8]] {
        let masters = try await currentTopology().masters
        let perMaster = await withTaskGroup(of: Result<[[UInt8]], RedisError>.self) { group in
            for master in masters {
                group.addTask { await self.scan(master, pattern: pattern, pageSize: pageSize) }
            }
            var results: [Result<[[UInt8]], RedisError>] = []
            for await result in group {
                results.append(result)
            }
            return results
        }
        var keys: [[UInt8]] = []
        for result in perMaster {
            keys += try result.get()
        }
        return keys
    }

    private func scan(_ node: RedisNodeAddress, pattern: String, pageSize: Int) async -> Result<[[UInt8]], RedisError> {
        var keys: [[UInt8]] = []
        var cursor = "0"
        repeat {
            let command = RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", pageSize)
            switch await execute([command], on: node).map({ $0[0] }) {
            case .failure(let error):
                return .failure(error)
            case .success(.error(let text)):
                return .failure(RedisError(RedisError.fromReply(text).code, "\(node): \(text)"))
            case .success(let reply):
                guard let page = reply.array, page.count == 2, let next = page[0].string, let found = page[1].array
                else {
                    return .failure(.protocolError("\(node) answered SCAN with \(reply)"))
                }
                keys += found.compactMap(\.bytes)
                cursor = next
            }
        } while cursor != "0"
        return .success(keys)
    }
}
