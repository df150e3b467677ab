/// What PostgreSQL holds about the test's users at one moment: the truth ``Invariants`` compares the views with.
struct StoredState {
    /// Each user's (and each followee's) tweet ids, newest first.
    var tweets: [Int64: [Int64]]
    /// Whom each user follows (the follower's side, the truth).
    var following: [Int64: Set<Int64>]
    /// Which of the users follow each user (the followee's side, the copy).
    var followers: [Int64: Set<Int64>]
    var counters: [Int64: UserCounters]

    /// Every tweet id read.
    var tweetIDs: Set<Int64> { Set(tweets.values.joined()) }

    /// Reads the state of `users` and the tweets of everyone they follow.
    static func read(users: [Int64], store: TruthStore) async throws -> StoredState {
        let following = try await store.following(of: users)
        let followees = Set(following.values.joined()).subtracting(users)
        return StoredState(
            tweets: try await store.tweets(of: users + followees),
            following: following,
            followers: try await store.followers(of: users),
            counters: try await store.counters(of: users)
        )
    }

    /// The home timeline `user` must see: the newest `limit` of their own and their followees' tweets.
    func home(of user: Int64, limit: Int) -> [Int64] {
        let authors = [user] + (following[user] ?? [])
        return Array(authors.flatMap { tweets[$0] ?? [] }.sorted(by: >).prefix(limit))
    }

    /// Counters that differ from their rows, and follows between `users` whose two copies disagree.
    func graphViolations(users: [Int64]) -> [String] {
        var found: [String] = []
        for user in users {
            guard let counter = counters[user] else {
                found.append("user \(user) is not in PostgreSQL")
                continue
            }
            if counter.followers != counter.followersRows {
                found.append("followers_count of \(user) is \(counter.followers), rows \(counter.followersRows)")
            }
            if counter.following != counter.followingRows {
                found.append("following_count of \(user) is \(counter.following), rows \(counter.followingRows)")
            }
            if counter.tweets != counter.tweetsRows {
                found.append("tweets_count of \(user) is \(counter.tweets), rows \(counter.tweetsRows)")
            }
        }
        let scope = Set(users)
        for user in users {
            for followee in following[user] ?? [] where scope.contains(followee) {
                if !(followers[followee] ?? []).contains(user) {
                    found.append("\(user) follows \(followee) (following row) but has no followers row on its shard")
                }
            }
            for follower in followers[user] ?? [] where !(following[follower] ?? []).contains(user) {
                found.append("followers row says \(follower) follows \(user), but \(follower) has no following row")
            }
        }
        return found
    }
}
