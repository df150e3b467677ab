import Testing

@testable import Gateway

/// The limits on password routes, driven with made-up instants.
@Suite("Sign-in guard")
struct SignInGuardTests {
    private let start = ContinuousClock.now

    private func guardWith(_ configuration: SignInGuard.Configuration) -> SignInGuard {
        SignInGuard(configuration: configuration)
    }

    /// Tries a sign-in that fails; the refusal's wait when it was not admitted.
    private func failedSignIn(
        _ signInGuard: SignInGuard, _ username: String, from address: String, at now: ContinuousClock.Instant
    ) -> Int? {
        switch signInGuard.beginSignIn(username: username, address: address, now: now) {
        case .success(let ticket):
            signInGuard.finish(ticket, .failed, now: now)
            return nil
        case .failure(let refusal):
            return refusal.retryAfterSeconds
        }
    }

    private func admits(
        _ signInGuard: SignInGuard, _ username: String, from address: String, at now: ContinuousClock.Instant
    ) -> SignInGuard.Ticket? {
        try? signInGuard.beginSignIn(username: username, address: address, now: now).get()
    }

    @Test func tenFailuresPerUsernameFromOneAddressThenOneMoreEveryNinetySeconds() {
        let signInGuard = guardWith(SignInGuard.Configuration())
        for _ in 0..<10 {
            #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start) == nil)
        }
        #expect((90...91).contains(failedSignIn(signInGuard, "ALICE", from: "10.0.0.1", at: start) ?? 0), "case")
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.2", at: start) == nil, "another address")
        #expect(failedSignIn(signInGuard, "bob", from: "10.0.0.1", at: start) == nil, "another username")
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start + .seconds(89)) != nil)
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start + .seconds(91)) == nil)
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start + .seconds(91)) != nil)
    }

    @Test func aSuccessClearsThatAddresssFailures() throws {
        let signInGuard = guardWith(SignInGuard.Configuration())
        for _ in 0..<9 {
            _ = failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start)
        }
        let ticket = try #require(admits(signInGuard, "alice", from: "10.0.0.1", at: start))
        signInGuard.finish(ticket, .succeeded, now: start)
        for _ in 0..<10 {
            #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start) == nil)
        }
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start) != nil)
    }

    @Test func theCeilingFromAllAddressesSparesAnAddressTheOwnerSignedInFrom() throws {
        let signInGuard = guardWith(
            SignInGuard.Configuration(failuresPerUsernameAndAddress: 10, failuresPerUsername: 30))
        let owner = try #require(admits(signInGuard, "alice", from: "192.0.2.7", at: start))
        signInGuard.finish(owner, .succeeded, now: start)
        // A botnet: three failures each from many addresses.
        var refusedAfter: Int?
        for index in 0..<20 where refusedAfter == nil {
            for _ in 0..<3 where refusedAfter == nil {
                if failedSignIn(signInGuard, "alice", from: "10.0.1.\(index)", at: start) != nil {
                    refusedAfter = index
                }
            }
        }
        #expect(refusedAfter == 10, "30 failures from all addresses, then 429 everywhere")
        #expect((30...31).contains(failedSignIn(signInGuard, "alice", from: "10.0.2.1", at: start) ?? 0), "900 s / 30")
        // The owner's own address still gets in, and fails against its own limit only.
        let again = try #require(admits(signInGuard, "alice", from: "192.0.2.7", at: start + .seconds(1)))
        signInGuard.finish(again, .succeeded, now: start + .seconds(1))
        // Once the window has passed, the trust lapses and the ceiling has refilled.
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.2.1", at: start + .seconds(901)) == nil)
    }

    @Test func attemptsTheServiceNeverCheckedAreRefunded() throws {
        let signInGuard = guardWith(SignInGuard.Configuration(failuresPerUsernameAndAddress: 2))
        for _ in 0..<5 {
            let ticket = try #require(admits(signInGuard, "alice", from: "10.0.0.1", at: start))
            signInGuard.finish(ticket, .notTried, now: start)
        }
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start) == nil)
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start) == nil)
        #expect(failedSignIn(signInGuard, "alice", from: "10.0.0.1", at: start) != nil)
    }

    @Test func oneAddressHasAtMostItsAllowanceOfPasswordRequestsInFlight() throws {
        #expect(SignInGuard.Configuration().passwordRequestsPerAddress == 1)
        let signInGuard = guardWith(SignInGuard.Configuration(passwordRequestsPerAddress: 2))
        let first = try #require(admits(signInGuard, "a", from: "10.0.0.1", at: start))
        let second = try #require(try? signInGuard.beginSignUp(address: "10.0.0.1", now: start).get())
        #expect(admits(signInGuard, "b", from: "10.0.0.1", at: start) == nil)
        #expect(admits(signInGuard, "b", from: "10.0.0.2", at: start) != nil, "other addresses are not affected")
        signInGuard.finish(first, .failed, now: start)
        #expect(admits(signInGuard, "c", from: "10.0.0.1", at: start) != nil)
        signInGuard.finish(second, .succeeded, now: start)
    }

    @Test func anAddressThatIgnoresRefusalsGetsNothingCheckedUntilItSlowsDown() throws {
        let signInGuard = guardWith(SignInGuard.Configuration())
        let held = try #require(admits(signInGuard, "a", from: "10.0.0.1", at: start))
        for _ in 0..<10 {
            #expect(
                throws: Refusal(retryAfterSeconds: 1), "one in flight already, answered at once",
                performing: { try signInGuard.beginSignIn(username: "b", address: "10.0.0.1", now: start).get() })
        }
        signInGuard.finish(held, .failed, now: start)
        #expect(
            throws: Refusal(retryAfterSeconds: 1, answerAfter: .milliseconds(250)),
            "backing off though nothing is in flight, and answered late",
            performing: { try signInGuard.beginSignIn(username: "c", address: "10.0.0.1", now: start).get() })
        #expect(admits(signInGuard, "c", from: "10.0.0.2", at: start) != nil, "other addresses are not affected")
        #expect(admits(signInGuard, "c", from: "10.0.0.1", at: start + .milliseconds(500)) == nil, "still hammering")
        #expect(admits(signInGuard, "c", from: "10.0.0.1", at: start + .seconds(3)) != nil, "after a pause")
    }

    @Test func signUpsPerAddressRefillOverAnHour() throws {
        let signInGuard = guardWith(SignInGuard.Configuration(signUpsPerAddressPerHour: 3))
        for _ in 0..<3 {
            let ticket = try #require(try? signInGuard.beginSignUp(address: "10.0.0.1", now: start).get())
            signInGuard.finish(ticket, .succeeded, now: start)
        }
        guard case .failure(let refusal) = signInGuard.beginSignUp(address: "10.0.0.1", now: start) else {
            Issue.record("a fourth sign-up within the hour was admitted")
            return
        }
        #expect((1200...1201).contains(refusal.retryAfterSeconds), "an hour over three")
        #expect((try? signInGuard.beginSignUp(address: "10.0.0.2", now: start).get()) != nil)
        #expect((try? signInGuard.beginSignUp(address: "10.0.0.1", now: start + .seconds(1201)).get()) != nil)
        let off = guardWith(SignInGuard.Configuration(passwordRequestsPerAddress: 0, signUpsPerAddressPerHour: 0))
        for _ in 0..<100 {
            #expect((try? off.beginSignUp(address: "10.0.0.1", now: start).get()) != nil)
        }
    }

    @Test func memoryStaysBoundedUnderAFloodOfUsernamesAndAddresses() {
        let signInGuard = guardWith(SignInGuard.Configuration(maxTracked: 64))
        for index in 0..<10_000 {
            _ = failedSignIn(signInGuard, "user\(index)", from: "10.\(index % 250).\(index / 250).1", at: start)
            #expect(signInGuard.trackedKeys <= 64)
        }
    }
}
