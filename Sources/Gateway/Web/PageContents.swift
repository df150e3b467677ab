// The content of each page (``Page/content``), one per template in `Templates/PageTemplates.swift`.

/// `/`.
struct HomeContent {
    let heading: String
    let listHeading: String
    /// Signed in: the compose box.
    var compose: ComposeView?
    /// A visitor: the two forms.
    var signIn: AccountFormView?
    var signUp: AccountFormView?
    let list: TweetListView
}

/// `/signin` and `/signup`.
struct AccountContent {
    let heading: String
    let action: String
    let form: AccountFormView
    let otherPrompt: String
    let otherPath: String
    let otherLabel: String

    /// The page of the form `kind`, with what it shows.
    init(_ kind: AccountFormView.Kind, form: AccountFormView) {
        self.form = form
        switch kind {
        case .signIn:
            (heading, action) = ("Sign in", "/signin")
            (otherPrompt, otherPath, otherLabel) = ("New to Tweeter?", "/signup", "Sign up")
        case .signUp:
            (heading, action) = ("Sign up", "/signup")
            (otherPrompt, otherPath, otherLabel) = ("Have an account?", "/signin", "Sign in")
        }
    }
}

/// `/@{username}`.
struct ProfileContent {
    let user: UserView
    /// Whether the viewer follows the user; `nil` when not known (a visitor, oneself, or not found among the
    /// viewer's follows that the page looked through).
    let isFollowing: Bool?
    let showFollow: Bool
    let showUnfollow: Bool
    let list: TweetListView
}

/// `/@{username}/followers` and `/following`.
struct PeopleContent {
    let heading: String
    let user: UserView
    let users: [UserView]
    let hasUsers: Bool
    /// `?cursor=` of the next page.
    let nextCursor: String?
    let path: String
}

/// `/tweets/{id}`.
struct TweetContent {
    let tweet: TweetView
    let parent: TweetView?
    /// It replies to a tweet that was deleted.
    let parentMissing: Bool
    /// The reply form, for a signed-in viewer.
    let reply: ComposeView?
}

/// Every error page.
struct ErrorContent {
    let heading: String
    let message: String
    /// When to retry, in words ("1 second", "90 seconds").
    let retryAfter: String?
    /// The fail whale, for 503.
    let whale: Bool

    init(heading: String, message: String, retryAfterSeconds: Int?, whale: Bool) {
        self.heading = heading
        self.message = message
        retryAfter = retryAfterSeconds.map { $0 == 1 ? "1 second" : "\($0) seconds" }
        self.whale = whale
    }
}
