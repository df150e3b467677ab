import TimelineService

/// The fan-out queue as the fault tests look at it: the eight streams of `FanOutStreams`, added up.
extension RedisProbe {
    /// Entries in every stream (`XLEN`) and entries handed out and not acknowledged (`XPENDING`), summed.
    func fanOutBacklog() async throws -> (length: Int64, pending: Int64) {
        var length: Int64 = 0
        var pending: Int64 = 0
        for stream in FanOutStreams.keys {
            length += try await integer(["XLEN", RedisArgument(stream)]) ?? 0
            pending +=
                try await send(["XPENDING", RedisArgument(stream), RedisArgument(FanOutStreams.group)]).array?.first?
                .integer ?? 0
        }
        return (length, pending)
    }

    /// Entries pending on the consumers whose names `matches` accepts, over every stream.
    func fanOutPending(onConsumers matches: (String) -> Bool) async throws -> Int64 {
        var pending: Int64 = 0
        for stream in FanOutStreams.keys {
            let summary =
                try await send(["XPENDING", RedisArgument(stream), RedisArgument(FanOutStreams.group)]).array ?? []
            let consumers = summary.count == 4 ? summary[3].array ?? [] : []
            pending += consumers.compactMap(\.array).filter { consumer in consumer.first?.string.map(matches) ?? false }
                .compactMap { $0.last?.string.flatMap { Int64($0) } }.reduce(0, +)
        }
        return pending
    }
}
