import Hummingbird
import Wire

// Profiles, finding a user, follow lists and the follow button: the API's user, tweet-list and follow calls
// (``user(named:)``,
// ``userTweets(of:_:)``, ``relationships(of:_:followers:)``, ``setFollowing(_:_:_:)``).
extension APIHandlers {
    /// How many of the viewer's follows a profile looks through to tell Follow from Unfollow (pages of 200, newest
    /// first): the API has no "do I follow this user" call, and this needs none.
    static let followLookupPages = 5

    /// `GET /@{username}?max_id=`: the user, their counts, the follow button and their tweets.
    func profilePage(_ request: APIRequest) async throws -> Response {
        let parameters = try pageParameters(request)
        let user = try await user(named: String(request.captures[0]))
        let now = Self.nowMillis()
        let list = TweetListView(
            try await userTweets(of: user.id, parameters), viewer: request.caller, path: "/@\(user.username)",
            nowMillis: now)
        var following: Bool?
        if let caller = request.caller, caller.id != user.id {
            following = try await follows(caller, user.id)
        }
        let isOther = request.caller != nil && request.caller?.id != user.id
        let content = ProfileContent(
            user: UserView(user, nowMillis: now), isFollowing: following,
            showFollow: isOther && following != true, showUnfollow: isOther && following != false, list: list)
        return render("profile", request, title: "@\(user.username)", content)
    }

    /// `GET /find?username=`: the search box's answer (the API's `GET /api/v1/users?username=`): that user's
    /// profile (303), or the 404 page. A leading `@` is allowed.
    func findPage(_ request: APIRequest) async throws -> Response {
        var username = Substring(request.query["username"] ?? "")
        if username.hasPrefix("@") {
            username = username.dropFirst()
        }
        let user = try await user(named: String(username))
        return redirect(to: "/@\(user.username)")
    }

    /// `GET /@{username}/followers?cursor=` and `/following`.
    func peoplePage(_ request: APIRequest, followers: Bool) async throws -> Response {
        let parameters = try pageParameters(request)
        let user = try await user(named: String(request.captures[0]))
        let page = try await relationships(of: user.id, parameters, followers: followers)
        let now = Self.nowMillis()
        let path = "/@\(user.username)/\(followers ? "followers" : "following")"
        let content = PeopleContent(
            heading: followers ? "People following @\(user.username)" : "People @\(user.username) follows",
            user: UserView(user, nowMillis: now), users: page.users.map { UserView($0, nowMillis: now) },
            hasUsers: !page.users.isEmpty, nextCursor: page.users.isEmpty ? nil : page.nextCursor.map(String.init),
            path: path)
        return render("people", request, title: content.heading, content)
    }

    /// `POST /@{username}/follow` and `/unfollow`, then back to the profile.
    func submitFollow(_ request: APIRequest, following: Bool) async throws -> Response {
        _ = try submittedForm(request)
        guard let caller = request.caller else { return redirect(to: "/signin") }
        let user = try await user(named: String(request.captures[0]))
        _ = try await setFollowing(caller, user.id, following)
        return redirect(to: "/@\(user.username)")
    }

    /// Whether `caller` follows `userID`, from the caller's own follow list (the side of the graph that is the
    /// truth, so a follow shows at once); `nil` when it is not among the newest ``followLookupPages`` pages.
    private func follows(_ caller: UserRecord, _ userID: Int64) async throws -> Bool? {
        var cursor: Int64?
        for _ in 0..<Self.followLookupPages {
            let page = try await relationships(
                of: caller.id, PageParameters(limit: PageParameters.limitRange.upperBound, cursor: cursor),
                followers: false)
            if page.users.contains(where: { $0.id == userID }) {
                return true
            }
            guard let next = page.nextCursor, !page.users.isEmpty else { return false }
            cursor = next
        }
        return nil
    }
}
