import Testing

extension FaultInjectionTests {
    /// The second PostgreSQL server stopped for 20 seconds and more while traffic runs: requests for its users answer
    /// 503 (`unavailable`), nothing they were refused is stored later, users on the first server still tweet and
    /// their tweets fan out; after the restart everything converges.
    @Test func aStoppedPostgresServerCostsOnlyItsOwnUsers() async throws {
        try await withSystem { bench in
            let store = bench.store
            let (a, b) = (
                try await bench.api.signUp(username: store.username("pga", onServer: 0)),
                try await bench.api.signUp(username: store.username("pgb", onServer: 0))
            )
            let (c, d) = (
                try await bench.api.signUp(username: store.username("pgc", onServer: 1)),
                try await bench.api.signUp(username: store.username("pgd", onServer: 1))
            )
            for (follower, followee) in [(b, a), (d, a), (b, c), (d, c)] {
                try await bench.api.follow(followee, as: follower)
            }
            for user in [a, b, c, d] {
                _ = try await bench.api.tweet(TweetText.unique("before the outage"), as: user)
            }
            try await bench.invariants([a, b, c, d]).waitUntilHeld(api: bench.api)

            try await Infrastructure.stopPostgres(2)
            var refusedTexts: [String] = []
            try await withFault(heal: { try await Infrastructure.startPostgres(2) }) {
                var fannedOut: [Int64] = []
                let end = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < end {
                    fannedOut.append(try await bench.api.tweet(TweetText.unique("during the outage"), as: a))
                    let text = TweetText.unique("refused")
                    refusedTexts.append(text)
                    let credentials = #"{"username":"\#(c.username)","password":"correct horse"}"#
                    for reply in [
                        try await bench.api.post(text, as: c),
                        try await bench.api.call(.GET, "/api/v1/users/\(c.id)"),
                        try await bench.api.call(.POST, "/api/v1/sessions", json: credentials),
                    ] {
                        #expect(reply.isUnavailable, "a request for a user on the stopped server: \(reply.summary)")
                    }
                    let neighbour = try await bench.api.call(.GET, "/api/v1/users/\(b.id)")
                    #expect(neighbour.status == 200, "a user on the running server: \(neighbour.summary)")
                    try await Task.sleep(for: .milliseconds(100))
                }
                // Still during the outage: the first server's tweets reach its follower's home.
                let reached = try await poll(within: .seconds(20)) {
                    Set(try await bench.api.allPages("/api/v1/timelines/home?limit=200", as: b)).isSuperset(
                        of: fannedOut)
                }
                #expect(reached, "all \(fannedOut.count) tweets of \(a.username) reach \(b.username) during the outage")
            }
            try await bench.invariants([a, b, c, d]).waitUntilHeld(api: bench.api)
            let stored = try await bench.store.storedTexts(of: c.id, among: refusedTexts)
            #expect(stored.isEmpty, "refused posts stored after all: \(stored.sorted())")
        }
    }
}
