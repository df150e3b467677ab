import Testing
import TweetService
import Wire

extension StoreTests {
    /// Sessions against the real PostgreSQL shards, with lifetimes of seconds instead of days.
    @Suite("Session expiry")
    struct SessionPolicyTests {
        private func store(_ policy: SessionPolicy) async throws -> AccountStore {
            AccountStore(database: try await TestStore.migrated(), hasher: TestStore.hasher, sessions: policy)
        }

        @Test func aSessionInUseSlidesAnIdleOneExpiresAndSigningInAgainKeepsTheOthers() async throws {
            let accounts = try await store(SessionPolicy(lifetime: .seconds(3), renewalInterval: .zero))
            let credentials = Credentials(username: TestStore.uniqueName(), password: "password1")
            let user = try await accounts.createUser(credentials)
            let used = try await accounts.authenticate(credentials)
            let idle = try await accounts.authenticate(credentials)
            #expect(try await accounts.resolve(token: used.token).id == user.id)
            #expect(try await accounts.resolve(token: idle.token).id == user.id)

            // Used for twice its lifetime: every use renews it.
            let until = ContinuousClock.now + .seconds(6)
            while ContinuousClock.now < until {
                #expect(try await accounts.resolve(token: used.token).id == user.id)
                try await Task.sleep(for: .milliseconds(250))
            }
            await #expect(throws: WireError(.unauthenticated, reason: "invalid_token", "unknown or revoked token")) {
                try await accounts.resolve(token: idle.token)
            }
            // A sign-in sweeps the user's expired sessions, never a live one.
            _ = try await accounts.authenticate(credentials)
            #expect(try await accounts.resolve(token: used.token).id == user.id)
        }

        @Test func aSessionIsRenewedOnlyOncePerRenewalInterval() async throws {
            // The renewal interval is the whole lifetime: no use is ever late enough to renew, so a session in
            // constant use still expires, which shows that a use alone does not write.
            let accounts = try await store(SessionPolicy(lifetime: .seconds(2), renewalInterval: .seconds(2)))
            let credentials = Credentials(username: TestStore.uniqueName(), password: "password1")
            _ = try await accounts.createUser(credentials)
            let session = try await accounts.authenticate(credentials)
            let deadline = ContinuousClock.now + .seconds(30)
            var refused = false
            while !refused, ContinuousClock.now < deadline {
                refused = (try? await accounts.resolve(token: session.token)) == nil
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(refused)
        }
    }
}
