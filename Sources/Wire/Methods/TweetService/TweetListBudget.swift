/// How many tweets fit in one answer.
///
/// A tweet's text may hold up to 8 KiB of UTF-8 (``FieldRules``), so a page of 200 tweets can pass the 1 MiB frame a
/// peer accepts by default, and a frame over the limit costs the whole connection. Every answer that lists tweets
/// therefore stays within ``maxBytes`` (half the default frame, leaving room for everything else), and a caller that
/// asks for tweets by id asks for at most ``maxIDsPerCall`` at once (the most 8 KiB tweets that fit).
public enum TweetListBudget {
    /// The most bytes of encoded tweets one answer carries.
    public static let maxBytes = 512 * 1024

    /// The most ids one `get_tweets` call may name.
    public static let maxIDsPerCall = 100

    /// Whether an answer of `tweets` that holds fewer than were asked for may have been cut to ``maxBytes`` (rather
    /// than holding all there are): true when one more tweet of the largest size might not have fitted.
    public static func mayHaveBeenCut(_ tweets: [TweetRecord]) -> Bool {
        let largestTweet = FieldRules.maxTweetBytes + 256  // text, username (15 bytes) and fixed fields, generously
        return tweets.reduce(0) { $0 + $1.payloadByteCount } + largestTweet > maxBytes
    }

    /// How many of `tweets` (in the order given) fit in ``maxBytes``; at least one, so that paging always advances.
    public static func fittingCount(of tweets: [TweetRecord]) -> Int {
        var bytes = 0
        for (index, tweet) in tweets.enumerated() {
            bytes += tweet.payloadByteCount
            if bytes > maxBytes {
                return max(1, index)
            }
        }
        return tweets.count
    }
}

extension TweetPage {
    /// A page of `tweets` (newest first) cut to ``TweetListBudget/maxBytes``: when it is cut, or when `hasMore`, the
    /// page continues after its last tweet.
    public init(fitting tweets: [TweetRecord], hasMore: Bool) {
        let count = TweetListBudget.fittingCount(of: tweets)
        let page = Array(tweets.prefix(count))
        self.init(tweets: page, nextMaxID: hasMore || count < tweets.count ? page.last?.id : nil)
    }
}
