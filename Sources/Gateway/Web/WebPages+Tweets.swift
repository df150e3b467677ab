import Hummingbird
import Wire

// Home, one tweet, writing and deleting: the API's timeline reads and tweet calls (``homeTimeline(of:_:)``,
// ``publicTimeline(_:)``, ``existingTweet(_:)``, ``postTweet(by:text:inReplyTo:)``, ``removeTweet(_:by:)``).
extension APIHandlers {
    /// `GET /?max_id=`: the home timeline and the compose box when signed in, else the public timeline and the
    /// sign-in and sign-up forms.
    func homePage(_ request: APIRequest, compose: ComposeView = ComposeView(), status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let parameters = try pageParameters(request)
        let now = Self.nowMillis()
        guard let caller = request.caller else {
            let list = TweetListView(
                try await publicTimeline(parameters), viewer: nil, path: "/", nowMillis: now)
            let content = HomeContent(
                heading: "Tweeter", listHeading: "Latest tweets from everyone",
                signIn: AccountFormView(.signIn), signUp: AccountFormView(.signUp), list: list)
            return render("home", request, title: "Public timeline", returnPath: "/", content)
        }
        let list = TweetListView(
            try await homeTimeline(of: caller, parameters), viewer: caller, path: "/", nowMillis: now)
        let content = HomeContent(
            heading: "Home", listHeading: "Your timeline", compose: compose, list: list)
        return render(
            "home", request, title: "Home", status: status, returnPath: "/", pollsNewTweets: parameters.maxID == nil,
            content)
    }

    /// `GET /home/new-count?since_id=`: how many tweets (up to 50) arrived on the signed-in user's home timeline
    /// since `since_id`, as `{"count": n}`: what the "new tweets" poller asks (`/static/new-tweets.js`).
    func newTweetsCount(_ request: APIRequest) async throws -> Response {
        guard let caller = request.caller else { throw APIError.unauthorized("sign in first") }
        var parameters = try PageParameters.parse(request.query)
        parameters.limit = 50
        let page = try await homeTimeline(of: caller, parameters)
        return .json(NewTweetsJSON(count: page.tweets.count))
    }

    /// `POST /tweets` `text`, `in_reply_to_id`?: a tweet, then home (or the new reply's page); a text that breaks
    /// the rules comes back in its box with the reason beside it.
    func submitTweet(_ request: APIRequest) async throws -> Response {
        let form = try submittedForm(request)
        guard let caller = request.caller else { return redirect(to: "/signin") }
        let text = form["text"] ?? ""
        let replyTo = form["in_reply_to_id"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            let tweet = try await postTweet(by: caller, text: text, inReplyTo: replyTo)
            return redirect(to: replyTo == nil ? "/" : "/tweets/\(tweet.id)")
        } catch let error as APIError where error.code == "invalid_text" {
            let compose = ComposeView(
                text: FieldView(value: text, error: "Write 1 to 280 characters."), inReplyToID: replyTo)
            guard let replyTo, let parentID = PageParameters.parseID(replyTo[...]) else {
                return try await homePage(request, compose: compose, status: error.status)
            }
            return try await tweetPage(request, id: parentID, reply: compose, status: error.status)
        }
    }

    /// `GET /tweets/{id}`: the tweet, the tweet it replies to, and a reply form.
    func tweetPage(_ request: APIRequest) async throws -> Response {
        try await tweetPage(request, id: request.pathID(), reply: nil)
    }

    private func tweetPage(
        _ request: APIRequest, id: Int64, reply: ComposeView?, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let tweet = try await existingTweet(id)
        var parent: TweetRecord?
        if let parentID = tweet.inReplyToID {
            do {
                parent = try await existingTweet(parentID)
            } catch let error as APIError where error.status == .notFound {
                parent = nil
            }
        }
        let now = Self.nowMillis()
        let content = TweetContent(
            tweet: TweetView(tweet, viewer: request.caller, nowMillis: now),
            parent: parent.map { TweetView($0, viewer: request.caller, nowMillis: now) },
            parentMissing: tweet.inReplyToID != nil && parent == nil,
            reply: request.caller == nil ? nil : reply ?? ComposeView(inReplyToID: String(tweet.id)))
        return render(
            "tweetPage", request, title: "Tweet by @\(tweet.username)", status: status,
            returnPath: "/@\(tweet.username)", content)
    }

    /// `POST /tweets/{id}/delete` `return_to`?: deletes one's own tweet, then back where the button was (a page
    /// of ours; the author's profile when the page was the tweet's own).
    func submitDelete(_ request: APIRequest) async throws -> Response {
        let form = try submittedForm(request)
        guard let caller = request.caller else { return redirect(to: "/signin") }
        let id = try request.pathID()
        try await removeTweet(id, by: caller)
        return redirect(to: Self.localPath(form["return_to"]) ?? "/@\(caller.username)")
    }

    /// `path` when it is a path on this site (`/...`, not `//host` nor `/\host`, which browsers read as another
    /// host), else `nil`: a form cannot send a user elsewhere after it is done (no open redirect).
    static func localPath(_ path: String?) -> String? {
        guard let path, path.hasPrefix("/"), !path.hasPrefix("//"), !path.hasPrefix("/\\"),
            path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return path
    }
}

/// `{"count": n}`: new tweets on the home timeline, for the poller.
struct NewTweetsJSON: JSONRepresentable {
    var count: Int

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("count")
            json.int(Int64(count))
        }
    }
}
