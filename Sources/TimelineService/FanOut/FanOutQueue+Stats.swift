import Foundation
import RedisCluster
import Wire

/// What the queue says about itself: its depth for operators (``stats()``), and how long new work waits before a
/// worker takes it (``delay()``), which the TweetService reads to hold tweet creation back while the fan-out is
/// behind.
extension FanOutQueue {
    /// Jobs not yet handed out, jobs handed out and not finished, and the age of the oldest unfinished one, over all
    /// the streams.
    func stats() async throws -> ReadQueueStats.Response {
        let replies = try await redis.pipeline(
            FanOutStreams.keys.flatMap {
                [RedisCommand("XLEN", key: $0), RedisCommand("XPENDING", key: $0, FanOutStreams.group)]
            })
        var length: Int64 = 0
        var pending: Int64 = 0
        var oldestMillis: Int64?
        for index in stride(from: 0, to: replies.count, by: 2) {
            length += replies[index].integer ?? 0
            let summary = replies[index + 1].array ?? []
            pending += summary.first?.integer ?? 0
            if let oldest = summary.dropFirst().first?.string.flatMap({ Int64($0.split(separator: "-").first ?? "") }) {
                oldestMillis = min(oldestMillis ?? oldest, oldest)
            }
        }
        let lag = oldestMillis.map { max(0, Int64(Date().timeIntervalSince1970 * 1000) - $0) } ?? 0
        return ReadQueueStats.Response(waiting: max(0, length - pending), pending: pending, lagMillis: lag)
    }

    /// Jobs no worker has taken yet, and how long the oldest of them has waited, over the streams that answered.
    /// Jobs a worker took and has not finished do not count: one left by a dead instance waits for its reclaim, and
    /// must not make the whole fan-out look behind. A stream whose script failed is left out (as the workers skip a
    /// stream they cannot read); a missing stream counts as empty.
    /// - Throws: ``RedisError`` when a node could not be reached or no stream answered.
    func delay() async throws -> ReadFanOutDelay.Response {
        let replies = try await redis.pipelineReplies(
            FanOutStreams.keys.map {
                RedisCommand(
                    arguments: [
                        Array("EVAL".utf8), Array(Self.delayScript.utf8), Array("1".utf8), Array($0.utf8),
                        Array(FanOutStreams.group.utf8),
                    ],
                    keyPositions: [3]
                )
            })
        var waiting: Int64 = 0
        var oldestWait: Int64 = 0
        var answered = 0
        for reply in replies {
            guard let values = reply.array, values.count == 2, let count = values[0].integer,
                let wait = values[1].integer
            else { continue }
            answered += 1
            waiting += count
            oldestWait = max(oldestWait, wait)
        }
        guard answered > 0 else {
            throw RedisError.unavailable(
                "no stream of the fan-out queue answered: \(replies.first.map(String.init(describing:)) ?? "")")
        }
        return ReadFanOutDelay.Response(waiting: waiting, oldestWaitMillis: oldestWait)
    }

    /// `{waiting, ms}` for stream `KEYS[1]` and group `ARGV[1]`: the stream's entries less those handed out and not
    /// acknowledged (finished jobs are deleted when acknowledged, so these are the entries after the group's last
    /// delivered one), and the age of the first entry after that one by the Redis server's clock (a stream id starts
    /// with its creation time in ms). A missing stream answers `{0, 0}`.
    private static let delayScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
        local pending, last = 0, nil
        for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
            local fields = {}
            for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
            if fields['name'] == ARGV[1] then pending, last = fields['pending'], fields['last-delivered-id'] end
        end
        local waiting = math.max(0, redis.call('XLEN', KEYS[1]) - pending)
        if not last then return {waiting, 0} end
        local first = redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', 1)[1]
        if not first then return {waiting, 0} end
        local now = redis.call('TIME')
        local millis = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        return {waiting, math.max(0, millis - tonumber(string.match(first[1], '^(%d+)')))}
        """
}
