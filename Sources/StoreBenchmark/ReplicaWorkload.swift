import Foundation
import TweetService
import Wire

/// The reads a TimelineService makes of the store for fan-out and home rebuilds, with the tweets that cause them:
/// each round creates a tweet (on its author's primary), reads all its author's follower pages as the fan-out does
/// (the first batched, the rest one by one), and rebuilds one reader's home (the reader's followees, their newest
/// 800 tweets, the authors by id).
struct ReplicaWorkload: Sendable {
    let authors: [UserRecord]
    let readers: [UserRecord]
    static let pageSize: UInt32 = 5_000

    /// Authors spread over the logical shards, each with `followers` synthetic followers and 20 tweets, and
    /// `readers` who follow every author.
    static func make(harness: TweetServiceHarness, authors: Int, followers: Int, readers: Int) async throws
        -> ReplicaWorkload
    {
        let authorUsers = try await harness.makeUsers(onShards: (0..<authors).map { $0 * 1024 / authors })
        for author in authorUsers {
            _ = try await harness.addSyntheticFollowers(followers, to: author)
        }
        let readerUsers = try await harness.makeUsers(onShards: (0..<readers).map { ($0 * 1024 / readers + 7) % 1024 })
        let graph = FollowGraph(database: harness.database)
        for reader in readerUsers {
            for author in authorUsers {
                _ = try await graph.set(FollowEdge(followerID: reader.id, followeeID: author.id), following: true)
            }
        }
        _ = try await harness.makeTweets(20, by: authorUsers)
        try await harness.clearOutboxes()
        report(
            "# \(authors) authors with \(followers) followers and 20 tweets each, \(readers) readers following them all"
        )
        return ReplicaWorkload(authors: authorUsers, readers: readerUsers)
    }

    /// Runs `rounds` rounds, `concurrency` at once, on `database`.
    func run(rounds: Int, concurrency: Int, database: ShardedDatabase) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for round in stride(from: worker, to: rounds, by: concurrency) {
                        try await self.round(round, database: database)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    private func round(_ round: Int, database: ShardedDatabase) async throws {
        let graph = FollowGraph(database: database)
        let tweets = TweetStore(database: database)
        let author = authors[round % authors.count]
        _ = try await tweets.create(NewTweet(authorID: author.id, text: TweetServiceHarness.tweetText(round)))
        var cursor = try await graph.firstFollowerPages(of: [author.id], limit: Self.pageSize)[0].nextCursor
        while let next = cursor {
            cursor = try await graph.page(
                PageRequest(userID: author.id, limit: Self.pageSize, cursor: next), followers: true
            ).nextCursor
        }
        let reader = readers[round % readers.count]
        let following = try await graph.page(PageRequest(userID: reader.id, limit: Self.pageSize), followers: false)
        _ = try await tweets.recent(by: [reader.id] + following.ids, limit: 800)
        _ = try await UserDirectory(database: database).users(following.ids, from: .caughtUpReplica)
    }
}
