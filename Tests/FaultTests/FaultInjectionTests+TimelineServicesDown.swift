import Testing
import Wire

extension FaultInjectionTests {
    /// 150 tweets of 8 KiB each, posted while both TimelineServices are stopped, wait in the outbox (1.2 MB, more than
    /// one batch may carry) and all show in every view once the TimelineServices are back.
    @Test func heavyTweetsPostedWhileNoTimelineServiceRunsAllShowOnceTheyAreBack() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("heavy")
            let reader = try await bench.api.signUp("heavyr")
            try await bench.api.follow(author, as: reader)
            let text = TweetText.heavy(0)
            #expect(text.count == 280 && text.utf8.count > 8_000 && text.utf8.count <= 8_192)

            for service in bench.system.timelineServices {
                await service.stop()
            }
            var posted: [Int64] = []
            try await withFault(heal: { try await restartStopped(bench.system.timelineServices, of: bench.system) }) {
                for index in 0..<150 {
                    posted.append(try await bench.api.tweet(TweetText.heavy(index), as: author))
                }
                let waiting = try await bench.store.nonEmptyOutboxes()[TweeterID.shard(of: author.id)] ?? 0
                #expect(waiting >= 150, "the outbox keeps every event while no TimelineService runs (holds \(waiting))")
            }
            #expect(posted.count == 150)
            try await bench.invariants([author, reader]).waitUntilHeld(within: .seconds(90), api: bench.api)

            // 150 such tweets are more than the 1 MiB Wire frame: a page asked with `limit=200` comes cut to the
            // tweet-list budget with a cursor, and a home rebuild reads the store in several answers.
            let wholePage = try await bench.api.call(.GET, "/api/v1/users/\(author.id)/tweets?limit=200")
            #expect(wholePage.status == 200, "\(wholePage.summary)")
            let newcomer = try await bench.api.signUp("heavyn")
            try await bench.api.follow(author, as: newcomer)
            let firstHome = try await bench.api.call(.GET, "/api/v1/timelines/home", as: newcomer)
            #expect(firstHome.status == 200, "\(firstHome.summary)")
        }
    }
}

/// Starts again those of `services` that are not running, and waits until each answers.
func restartStopped(_ services: [ServiceProcess], of system: SystemUnderTest) async throws {
    for service in services where !service.isRunning() {
        try await system.restart(service)
    }
}
