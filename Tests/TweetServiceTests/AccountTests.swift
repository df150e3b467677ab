import Testing
import TweetService
import Wire
import WireTestSupport

extension StoreTests {
    @Suite("Accounts and sessions")
    struct AccountTests {
        @Test func signUpSignInResolveRevoke() async throws {
            try await withTweetService { client in
                let name = TestStore.uniqueName()
                let user = try await client.call(
                    CreateUser.self, Credentials(username: name, password: "correct horse"))
                #expect(user.username == name && user.followersCount == 0 && user.tweetsCount == 0)
                #expect(TweeterID.unixMillis(of: user.id) - user.createdAtMillis < 5_000)

                let session = try await client.call(
                    Authenticate.self, Credentials(username: name.uppercased(), password: "correct horse"))
                #expect(session.user.id == user.id)
                let resolved = try await client.call(ResolveToken.self, Name(session.token))
                #expect(resolved.id == user.id)

                _ = try await client.call(RevokeToken.self, Name(session.token))
                #expect(
                    await wireOutcome { try await client.call(ResolveToken.self, Name(session.token)) }
                        == "unauthenticated/invalid_token")
            }
        }

        @Test func wrongPasswordAndUnknownUserAreUnauthenticated() async throws {
            try await withTweetService { client in
                let name = TestStore.uniqueName()
                _ = try await client.call(CreateUser.self, Credentials(username: name, password: "password1"))
                #expect(
                    await wireOutcome {
                        try await client.call(Authenticate.self, Credentials(username: name, password: "password2"))
                    } == "unauthenticated/invalid_credentials")
                #expect(
                    await wireOutcome {
                        try await client.call(
                            Authenticate.self, Credentials(username: TestStore.uniqueName(), password: "password1"))
                    } == "unauthenticated/invalid_credentials")
            }
        }

        @Test(arguments: ["", "sixteen_chars_xx", "has space", "ünïcode", "dash-name", "semi;colon"])
        func invalidUsernamesAreRefused(username: String) async throws {
            try await withTweetService { client in
                #expect(
                    await wireOutcome {
                        try await client.call(CreateUser.self, Credentials(username: username, password: "password1"))
                    } == "invalid_argument/invalid_username")
            }
        }

        @Test(arguments: ["short", String(repeating: "p", count: 129), "1234567"])
        func invalidPasswordsAreRefused(password: String) async throws {
            try await withTweetService { client in
                #expect(
                    await wireOutcome {
                        try await client.call(
                            CreateUser.self, Credentials(username: TestStore.uniqueName(), password: password))
                    } == "invalid_argument/invalid_password")
            }
        }

        @Test func passwordLengthCountsUnicodeScalars() async throws {
            try await withTweetService { client in
                // Eight scalars but 32 UTF-8 bytes: long enough.
                _ = try await client.call(
                    CreateUser.self, Credentials(username: TestStore.uniqueName(), password: "😀😀😀😀😀😀😀😀"))
                // 128 scalars is the most.
                _ = try await client.call(
                    CreateUser.self,
                    Credentials(username: TestStore.uniqueName(), password: String(repeating: "é", count: 128)))
            }
        }

        @Test func usernamesAreUniqueIgnoringCaseUnderConcurrentSignUps() async throws {
            try await withTweetService { client in
                let name = TestStore.uniqueName("Dup")
                let variants = [
                    name, name.lowercased(), name.uppercased(), name, name.lowercased(), name.uppercased(), name, name,
                ]
                let outcomes = await withTaskGroup(of: String.self) { group in
                    for variant in variants {
                        group.addTask {
                            await wireOutcome {
                                try await client.call(
                                    CreateUser.self, Credentials(username: variant, password: "password1"))
                            } ?? "created"
                        }
                    }
                    return await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 == "created" }.count == 1)
                #expect(outcomes.filter { $0 == "already_exists/username_taken" }.count == variants.count - 1)
            }
        }

        @Test(arguments: [
            "", "abc", "1.xyz", "99999999999999999999.00", "\(Int64.max).\(String(repeating: "a", count: 64))",
            "-1.\(String(repeating: "0", count: 64))",
        ])
        func malformedOrForeignTokensAreUnauthenticated(token: String) async throws {
            try await withTweetService { client in
                #expect(
                    await wireOutcome { try await client.call(ResolveToken.self, Name(token)) }
                        == "unauthenticated/invalid_token")
            }
        }

        @Test func lookupByIdAndName() async throws {
            try await withTweetService { client in
                let name = TestStore.uniqueName()
                let user = try await client.call(CreateUser.self, Credentials(username: name, password: "password1"))
                #expect(try await client.call(GetUserByUsername.self, Name(name.uppercased())).id == user.id)
                let found = try await client.call(GetUsers.self, IDList(ids: [user.id, user.id + 1, -3]))
                #expect(found.users.map(\.id) == [user.id])
                #expect(
                    await wireOutcome { try await client.call(GetUserByUsername.self, Name(TestStore.uniqueName())) }
                        == "not_found/unknown_user")
            }
        }

        @Test func productionScryptCostHashesAndVerifies() async throws {
            let hasher = PasswordHasher()
            let stored = try await hasher.hash("correct horse")
            #expect(stored.hasPrefix("scrypt$17$8$1$"))
            #expect(try await hasher.verify("correct horse", against: stored))
            #expect(try await !hasher.verify("wrong horse", against: stored))
            try await hasher.shutdown()
        }
    }
}
