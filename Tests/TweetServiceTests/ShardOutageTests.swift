import InfraTestSupport
import Testing
import Wire
import WireTestSupport

@testable import TweetService

extension StoreTests {
    @Suite("A shard server goes down")
    struct ShardOutageTests {
        @Test func stoppedServerIsUnavailableWhileTheOtherServesAndItReconnects() async throws {
            try await withTweetService { client in
                let database = try await TestStore.migrated()
                var onFirst: UserRecord?
                var onSecond: UserRecord?
                while onFirst == nil || onSecond == nil {
                    let user = try await makeUsers(1, client: client)[0]
                    if database.shardMap.server(ofShard: TweeterID.shard(of: user.id)) == 0 {
                        onFirst = user
                    } else {
                        onSecond = user
                    }
                }
                try await ScriptsInfra.run("pg-stop", "2")
                // The server is started again whatever happens meanwhile: a failure here must not cascade into every
                // later test that needs it.
                do {
                    let outcome = await wireOutcome {
                        try await client.call(GetUsers.self, IDList(ids: [onSecond!.id]))
                    }
                    #expect(outcome == "unavailable/database_unavailable")
                    // Still failing fast on the next call, and the other server still serves.
                    let again = await wireOutcome {
                        try await client.call(CreateTweet.self, NewTweet(authorID: onSecond!.id, text: "down"))
                    }
                    #expect(again == "unavailable/database_unavailable")
                    let other = try await client.call(
                        CreateTweet.self, NewTweet(authorID: onFirst!.id, text: "still up"))
                    #expect(other.userID == onFirst!.id)
                } catch {
                    try await ScriptsInfra.run("pg-start", "2")
                    throw error
                }
                try await ScriptsInfra.run("pg-start", "2")
                // The pool reconnects by itself once the server is back.
                var recovered = false
                for _ in 0..<100 where !recovered {
                    recovered = (try? await client.call(GetUsers.self, IDList(ids: [onSecond!.id])).users.count) == 1
                    if !recovered { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(recovered)
            }
        }
    }
}
