import Testing

extension FaultInjectionTests {
    /// Two Gateways, as a deployment runs several, both holding the reader's home page with a tweet in their page
    /// cache; the tweet is deleted through one of them. Once the delete answered 204, neither shows it, although the
    /// other Gateway heard nothing of the delete: every page that held the tweet was read before the delete and has
    /// expired by the time the 204 is sent (`HomePageCache`). Five rounds, each read right after the 204.
    @Test func aDeleteAnsweredByOneGatewayIsShownByNoGatewaysCachedPage() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("pages")
            let reader = try await bench.api.signUp("pagesr")
            try await bench.api.follow(author, as: reader)
            var deleted: [Int64: Int64] = [:]
            try await bench.system.withAnotherGateway { _, other in
                for round in 0..<5 {
                    let doomed = try await bench.api.tweet(
                        TweetText.unique("cached, then deleted \(round)"), as: author)
                    #expect(try await other.homeShows(doomed, to: reader), "the tweet reached the other Gateway's page")
                    #expect(try await bench.api.homeShows(doomed, to: reader))

                    try await bench.api.delete(doomed, as: author)
                    deleted[doomed] = author.id
                    let seenByOther = try await other.home(of: reader)
                    let seenHere = try await bench.api.home(of: reader)
                    #expect(!seenByOther.contains(doomed), "round \(round): the other Gateway showed a deleted tweet")
                    #expect(!seenHere.contains(doomed), "round \(round): the deleting Gateway showed a deleted tweet")
                }
            }
            try await bench.invariants([author, reader], deleted: deleted).waitUntilHeld(api: bench.api)
        }
    }

    /// A Gateway paused (SIGSTOP) while its cache holds a page with a tweet, the tweet deleted through another, then
    /// the paused one resumed: its first read after the 204 does not show the tweet. A page's lifetime runs on a clock
    /// that does not stop with the process, so a Gateway that missed the whole delete still cannot serve it.
    @Test func aGatewayPausedWithACachedPageDoesNotServeItAfterADeleteElsewhere() async throws {
        try await withSystem { bench in
            let author = try await bench.api.signUp("paused")
            let reader = try await bench.api.signUp("pausedr")
            try await bench.api.follow(author, as: reader)
            let doomed = try await bench.api.tweet(TweetText.unique("cached by a paused Gateway"), as: author)
            try await bench.system.withAnotherGateway { process, other in
                #expect(try await other.homeShows(doomed, to: reader), "the tweet reached the other Gateway's page")
                try await withFault(heal: { process.resume() }) {
                    process.pause()
                    try await bench.api.delete(doomed, as: author)
                }
                let seen = try await other.home(of: reader)
                #expect(!seen.contains(doomed), "the resumed Gateway served a page with the deleted tweet")
            }
            try await bench.invariants([author, reader], deleted: [doomed: author.id]).waitUntilHeld(api: bench.api)
        }
    }
}

extension TweeterAPI {
    /// The ids on `reader`'s first home page, as this connection's Gateway answers it.
    fileprivate func home(of reader: Account) async throws -> [Int64] {
        try await page("/api/v1/timelines/home", as: reader).ids
    }

    /// Whether `tweet` reaches `reader`'s first home page within 30 s; the read that finds it leaves the page in this
    /// Gateway's cache.
    fileprivate func homeShows(_ tweet: Int64, to reader: Account) async throws -> Bool {
        try await poll(within: .seconds(30)) { try await home(of: reader).contains(tweet) }
    }
}
