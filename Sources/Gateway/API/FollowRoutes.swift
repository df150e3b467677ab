import Hummingbird
import Wire

// The follow graph: following, unfollowing, and the two lists.
extension APIHandlers {
    /// `POST` (follow) and `DELETE` (unfollow) `/api/v1/users/{id}/follow` -> 200 `{"following": bool}`.
    ///
    /// Both are idempotent. An unknown user is 404, oneself 422 `self_follow`.
    func follow(_ request: APIRequest, following: Bool) async throws -> Response {
        let caller = try request.authenticatedCaller()
        let state = try await setFollowing(caller, request.pathID(), following)
        return .json(FollowStateJSON(following: state.following))
    }

    /// Follows or unfollows `followee` as `caller` (the API's and the web pages' one way to do it).
    func setFollowing(_ caller: UserRecord, _ followee: Int64, _ following: Bool) async throws -> FollowState {
        let edge = FollowEdge(followerID: caller.id, followeeID: followee)
        let state =
            following
            ? try await upstream.call(.tweets, Follow.self, edge, idempotent: true)
            : try await upstream.call(.tweets, Unfollow.self, edge, idempotent: true)
        homePages.forget(userID: caller.id)
        return state
    }

    /// `GET /api/v1/users/{id}/followers` and `/following` `?limit=1..200&cursor=` -> `{"users", "next_cursor"}`,
    /// newest relationship first.
    ///
    /// Checks run 400 (a query value that is not a decimal integer), 404 (not an id, or an unknown user), 422
    /// (`invalid_limit`). Only an empty page needs to ask whether the user exists at all.
    func relationships(_ request: APIRequest, followers: Bool) async throws -> Response {
        let parameters = try PageParameters.parse(request.query)
        let page = try await relationships(of: request.pathID(), parameters, followers: followers)
        return .json(UserPageJSON(page: page))
    }

    /// A page of `userID`'s followers, or of whom they follow (the API's and the web pages').
    func relationships(of userID: Int64, _ parameters: PageParameters, followers: Bool) async throws -> UserPage {
        let limit = try await validLimit(parameters, ofUser: userID)
        let pageRequest = PageRequest(userID: userID, limit: limit, cursor: parameters.cursor)
        let page =
            followers
            ? try await upstream.call(.tweets, ListFollowers.self, pageRequest, idempotent: true)
            : try await upstream.call(.tweets, ListFollowing.self, pageRequest, idempotent: true)
        if page.users.isEmpty {
            _ = try await existingUser(userID)
        }
        return page
    }
}
