import Hummingbird
import Wire

// The follow graph: following, unfollowing, and the two lists.
extension APIHandlers {
    /// `POST` (follow) and `DELETE` (unfollow) `/api/v1/users/{id}/follow` -> 200 `{"following": bool}`.
    ///
    /// Both are idempotent. An unknown user is 404, oneself 422 `self_follow`.
    func follow(_ request: APIRequest, following: Bool) async throws -> Response {
        let caller = try request.authenticatedCaller()
        let followee = try request.pathID()
        let edge = FollowEdge(followerID: caller.id, followeeID: followee)
        let state =
            following
            ? try await upstream.call(.tweets, Follow.self, edge, idempotent: true)
            : try await upstream.call(.tweets, Unfollow.self, edge, idempotent: true)
        return .json(FollowStateJSON(following: state.following))
    }

    /// `GET /api/v1/users/{id}/followers` and `/following` `?limit=1..200&cursor=` -> `{"users", "next_cursor"}`,
    /// newest relationship first.
    ///
    /// Checks run 400 (a query value that is not a decimal integer), 404 (not an id, or an unknown user), 422
    /// (`invalid_limit`). The user's
    /// existence is asked for in parallel with the page, so the check costs no extra round trip.
    func relationships(_ request: APIRequest, followers: Bool) async throws -> Response {
        let parameters = try PageParameters.parse(request.query)
        let userID = try request.pathID()
        let limit = try await validLimit(parameters, ofUser: userID)
        let pageRequest = PageRequest(userID: userID, limit: limit, cursor: parameters.cursor)
        async let user = existingUser(userID)
        async let page =
            followers
            ? upstream.call(.tweets, ListFollowers.self, pageRequest, idempotent: true)
            : upstream.call(.tweets, ListFollowing.self, pageRequest, idempotent: true)
        _ = try await user
        return .json(UserPageJSON(page: try await page))
    }
}
