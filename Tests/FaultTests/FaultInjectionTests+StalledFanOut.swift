import Foundation
import Logging
import Testing
import Wire
import WireTestSupport

extension FaultInjectionTests {
    /// The fan-out stands still while a user posts: the only TimelineService left running has no workers, so it
    /// queues every event and nobody takes the jobs. The TweetService sees the oldest untaken job wait past 300 ms and
    /// holds creations (`tweet_service_creations_held_total`), yet answers every one 201; once a working instance is
    /// back the queue drains and every tweet reaches the follower's home (`docs/timelines.md`, "Backpressure").
    @Test func aStalledFanOutHoldsCreationsButFailsNoneAndLosesNothing() async throws {
        try await withSystem(timelineServiceArguments: [["--workers", "0"], []]) { bench in
            let author = try await bench.api.signUp("held")
            let reader = try await bench.api.signUp("heldr")
            try await bench.api.follow(author, as: reader)
            try await bench.invariants([author, reader]).waitUntilHeld(api: bench.api)
            let working = bench.system.timelineServices[1]
            await working.stop()
            let heldBefore = try await creationsHeld(tweetServicePort: bench.system.tweetServicePort)
            var posted: [Int64] = []
            try await withFault(heal: { try await restartStopped([working], of: bench.system) }) {
                // One tweet after another (each throws unless answered 201) until one was held; at most 40, so that
                // the invariants, which compare the newest 50 of a home, check every one. Between them, until the
                // oldest queued job has waited past the hold limit (300 ms) and one more of the TweetService's
                // readings (every 100 ms): only then can a creation be held, however fast the machine answers.
                var held = false
                while !held, posted.count < 40 {
                    posted.append(
                        try await bench.api.tweet(TweetText.unique("while the fan-out stands still"), as: author))
                    held = try await creationsHeld(tweetServicePort: bench.system.tweetServicePort) > heldBefore
                    if !held {
                        _ = try await eventually(within: .seconds(2), every: .milliseconds(20)) {
                            try await fanOutDelayMillis(timelineServicePort: bench.system.timelineServicePorts[0]) > 400
                        }
                    }
                }
                #expect(held, "a creation was held while the fan-out stood still (\(posted.count) posted, all 201)")
            }
            try await bench.invariants([author, reader]).waitUntilHeld(within: .seconds(60), api: bench.api)
        }
    }
}

/// The TweetService's count of creations held by the fan-out's backpressure, from its metrics.
private func creationsHeld(tweetServicePort: Int) async throws -> Double {
    let client = AnyRoleClient(
        endpoints: [WireEndpoint(host: "127.0.0.1", port: tweetServicePort)], logger: Logger(label: "fault-tests"))
    defer { client.closeConnections() }
    let text = try await client.call(ReadMetrics.self, WireEmpty()).text
    let line = text.split(separator: "\n").first { $0.hasPrefix("tweet_service_creations_held_total ") }
    return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
}

/// How long the oldest fan-out job no worker has taken has waited, as a TimelineService reports it.
private func fanOutDelayMillis(timelineServicePort: Int) async throws -> Int64 {
    let client = AnyRoleClient(
        endpoints: [WireEndpoint(host: "127.0.0.1", port: timelineServicePort)], logger: Logger(label: "fault-tests"))
    defer { client.closeConnections() }
    return try await client.call(ReadFanOutDelay.self, WireEmpty()).oldestWaitMillis
}
