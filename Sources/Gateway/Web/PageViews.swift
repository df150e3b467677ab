import Wire

// What the templates render: plain values, read by Mustache through reflection. Every string a user wrote is
// escaped by the templates' `{{...}}` (never `{{{...}}}`), so no view needs to escape anything itself.

/// What every page carries around its own content.
struct Page<Content> {
    /// The `<title>`, before " · Tweeter".
    let title: String
    /// The signed-in user, for the navigation; `nil` for a visitor.
    let viewer: UserView?
    /// The CSRF token every form of the page sends (``CSRFProtection``).
    let csrf: String
    /// Where a form on this page returns to afterwards (delete buttons): this page, or another when this one would
    /// be gone.
    let returnPath: String
    /// Whether the page loads the "new tweets" poller.
    var pollsNewTweets = false
    let content: Content
}

/// A user as the pages show one.
struct UserView {
    let username: String
    let followersCount: Int64
    let followingCount: Int64
    let tweetsCount: Int64
    /// "tweet" or "tweets", "follower" or "followers": the words after the counts.
    let tweetsWord: String
    let followersWord: String
    let joined: RelativeTime

    init(_ user: UserRecord, nowMillis: Int64) {
        username = user.username
        followersCount = user.followersCount
        followingCount = user.followingCount
        tweetsCount = user.tweetsCount
        tweetsWord = user.tweetsCount == 1 ? "tweet" : "tweets"
        followersWord = user.followersCount == 1 ? "follower" : "followers"
        joined = RelativeTime(millis: user.createdAtMillis, nowMillis: nowMillis)
    }
}

/// A tweet as the pages show one.
struct TweetView {
    let id: String
    let username: String
    let text: String
    let time: RelativeTime
    let inReplyToID: String?
    /// Whether the viewer wrote it (and may delete it).
    let isOwn: Bool

    init(_ tweet: TweetRecord, viewer: UserRecord?, nowMillis: Int64) {
        id = String(tweet.id)
        username = tweet.username
        text = tweet.text
        time = RelativeTime(millis: tweet.createdAtMillis, nowMillis: nowMillis)
        inReplyToID = tweet.inReplyToID.map(String.init)
        isOwn = viewer?.id == tweet.userID
    }
}

/// A list of tweets with the link to the next, older page.
struct TweetListView {
    let tweets: [TweetView]
    let hasTweets: Bool
    /// `?max_id=` of the next page; `nil` on the last page.
    let olderMaxID: String?
    /// The path the "Older" link goes to (the page's own).
    let path: String

    init(_ page: TweetPage, viewer: UserRecord?, path: String, nowMillis: Int64) {
        tweets = page.tweets.map { TweetView($0, viewer: viewer, nowMillis: nowMillis) }
        hasTweets = !tweets.isEmpty
        olderMaxID = page.tweets.isEmpty ? nil : page.nextMaxID.map(String.init)
        self.path = path
    }
}

/// A form field: what was sent (kept when the form comes back with errors) and what is wrong with it.
struct FieldView: Sendable, Hashable {
    var value = ""
    var error: String?
}

/// The sign-in and sign-up forms.
struct AccountFormView: Sendable, Hashable {
    /// Which form: their element ids differ, so both can be on one page (the visitor's home).
    enum Kind: Sendable, Hashable {
        case signIn, signUp
    }

    /// Makes the fields' ids unique on a page that shows both forms.
    let idPrefix: String
    /// `current-password` or `new-password`, so password managers offer the right thing.
    let passwordAutocomplete: String
    var username = FieldView()
    /// Never sent back: a password is not echoed into a page.
    var password = FieldView()
    /// What is wrong with the form as a whole (wrong credentials).
    var formError: String?

    init(_ kind: Kind, username: String = "") {
        idPrefix = kind == .signIn ? "signin-" : "signup-"
        passwordAutocomplete = kind == .signIn ? "current-password" : "new-password"
        self.username.value = username
    }
}

/// The compose box: on home, and as the reply form under a tweet.
struct ComposeView: Sendable, Hashable {
    var text = FieldView()
    /// The tweet replied to; `nil` on home.
    var inReplyToID: String?
}
