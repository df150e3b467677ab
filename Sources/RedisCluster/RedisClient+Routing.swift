import NIOCore

/// The slot map and the connections behind ``RedisClient``: loading `CLUSTER SLOTS`, sharing one refresh among all
/// callers that need it, and sending batches to nodes concurrently.
extension RedisClient {
    /// The slot map, loaded from the cluster on first use.
    func currentTopology() async throws(RedisError) -> RedisClusterTopology {
        if let topology = state.withLock({ $0.topology }) {
            return topology
        }
        return try await loadTopology()
    }

    /// Reloads the slot map, then lays the `MOVED` news over it: a node that has not yet heard of a slot's move may
    /// have answered the reload. A failed reload keeps the old map (patched) and is only logged, since the caller
    /// is about to find out for itself whether the nodes answer.
    func refreshTopology(applying moves: [(HashSlot, RedisNodeAddress)]) async {
        if !moves.isEmpty {
            patch(moves)
        }
        do {
            _ = try await loadTopology()
            if !moves.isEmpty {
                patch(moves)
            }
        } catch {
            logger.warning("Redis slot map refresh failed", metadata: ["error": "\(error)"])
        }
    }

    /// Replaces the slot map (a test hook, to make it stale on purpose).
    func setTopology(_ topology: RedisClusterTopology) {
        state.withLock { $0.topology = topology }
    }

    /// Loads `CLUSTER SLOTS` from the known masters or, failing those, the seeds. Concurrent callers share one load.
    func loadTopology() async throws(RedisError) -> RedisClusterTopology {
        guard case .cluster(let seeds) = configuration.mode else {
            return try await currentTopology()
        }
        enum Role {
            case leader(EventLoopPromise<RedisClusterTopology>, candidates: [RedisNodeAddress])
            case follower(EventLoopFuture<RedisClusterTopology>)
        }
        let role: Role = state.withLock { state in
            if let refresh = state.refresh {
                return .follower(refresh)
            }
            let promise = eventLoopGroup.any().makePromise(of: RedisClusterTopology.self)
            state.refresh = promise.futureResult
            var candidates = state.topology?.masters ?? []
            candidates += seeds.filter { !candidates.contains($0) }
            return .leader(promise, candidates: candidates)
        }
        switch role {
        case .follower(let refresh):
            do {
                return try await refresh.get()
            } catch {
                throw error as? RedisError ?? .unavailable("slot map refresh failed: \(error)")
            }
        case .leader(let promise, let candidates):
            let result = await fetchTopology(from: candidates)
            let (changed, retired): (Bool, [RedisNodeConnections]) = state.withLock { state in
                state.refresh = nil
                guard case .success(let topology) = result else { return (false, []) }
                let changed = state.topology != topology
                state.topology = topology
                let keep = Set(topology.nodes + seeds)
                let gone = state.nodes.keys.filter { !keep.contains($0) }
                return (changed, gone.compactMap { state.nodes.removeValue(forKey: $0) })
            }
            for node in retired {
                node.close()
            }
            if changed, case .success(let topology) = result {
                logger.info("Redis slot map changed", metadata: ["redis.masters": "\(topology.masters)"])
            }
            promise.completeWith(result.mapError { $0 })
            return try result.get()
        }
    }

    private func fetchTopology(from candidates: [RedisNodeAddress]) async -> Result<RedisClusterTopology, RedisError> {
        var lastError = RedisError.unavailable("no Redis node to ask for the slot map")
        for node in candidates {
            do throws(RedisError) {
                let reply = try await connections(to: node).connection().execute([RedisCommand("CLUSTER", "SLOTS")])
                if case .error(let text) = reply[0] {
                    throw RedisError.fromReply(text)
                }
                return .success(try RedisClusterTopology(clusterSlots: reply[0], queriedNode: node))
            } catch {
                logger.debug("cannot read the slot map", metadata: ["redis.node": "\(node)", "error": "\(error)"])
                lastError = error
            }
        }
        return .failure(RedisError(lastError.code, "no node answered CLUSTER SLOTS; last: \(lastError.message)"))
    }

    private func patch(_ moves: [(HashSlot, RedisNodeAddress)]) {
        state.withLock { state in
            for (slot, node) in moves {
                state.topology?.assign(slot, to: node)
            }
        }
    }

    /// Writes each batch to its node, all at once, and returns the outcomes in the batches' order.
    func execute(_ batches: [RedisPipelinePlan.Batch]) async -> [Result<[RedisValue], RedisError>] {
        if batches.count == 1 {
            return [await execute(batches[0].commands, on: batches[0].node)]
        }
        return await withTaskGroup(of: (Int, Result<[RedisValue], RedisError>).self) { group in
            for (index, batch) in batches.enumerated() {
                group.addTask { (index, await self.execute(batch.commands, on: batch.node)) }
            }
            var outcomes = [Result<[RedisValue], RedisError>](repeating: .success([]), count: batches.count)
            for await (index, outcome) in group {
                outcomes[index] = outcome
            }
            return outcomes
        }
    }

    func execute(_ commands: [RedisCommand], on node: RedisNodeAddress) async -> Result<[RedisValue], RedisError> {
        do {
            return .success(try await connections(to: node).connection().execute(commands))
        } catch {
            return .failure(error)
        }
    }

    /// The connections to `node`, created on first use.
    private func connections(to node: RedisNodeAddress) throws(RedisError) -> RedisNodeConnections {
        try state.withLock { state throws(RedisError) in
            guard !state.isShutDown else { throw .unavailable("the Redis client has shut down") }
            if let known = state.nodes[node] {
                return known
            }
            let created = RedisNodeConnections(
                address: node, configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger
            )
            state.nodes[node] = created
            return created
        }
    }
}
