import Hummingbird
import Wire

// Timelines: `?limit=1..200&max_id=&since_id=` (both exclusive), newest first -> `{"tweets", "next_max_id"}`.
extension APIHandlers {
    /// `GET /api/v1/timelines/public`: everyone's tweets, from the TimelineService (may lag the store by seconds).
    func publicTimeline(_ request: APIRequest) async throws -> Response {
        let parameters = try PageParameters.parse(request.query)
        let query = TimelineQuery(
            limit: try parameters.validLimit(), maxID: parameters.maxID, sinceID: parameters.sinceID)
        let page = try await upstream.call(.timelines, ReadPublicTimeline.self, query, idempotent: true)
        return .json(TweetPageJSON(page: page))
    }

    /// `GET /api/v1/timelines/home` (authenticated): the caller's tweets and those of the people they follow.
    func homeTimeline(_ request: APIRequest) async throws -> Response {
        let caller = try request.authenticatedCaller()
        let parameters = try PageParameters.parse(request.query)
        let query = TimelineQuery(
            userID: caller.id, limit: try parameters.validLimit(), maxID: parameters.maxID, sinceID: parameters.sinceID
        )
        let page = try await upstream.call(.timelines, ReadHomeTimeline.self, query, idempotent: true)
        return .json(TweetPageJSON(page: page))
    }

    /// `GET /api/v1/users/{id}/tweets`: one user's tweets straight from the TweetService's store, so a new tweet or a
    /// deletion shows at once. Checks run 400 (a query value that is not a decimal integer), 404 (not an id, or an
    /// unknown user), 422.
    func userTweets(_ request: APIRequest) async throws -> Response {
        let parameters = try PageParameters.parse(request.query)
        let userID = try request.pathID()
        let limit = try await validLimit(parameters, ofUser: userID)
        let query = TimelineQuery(userID: userID, limit: limit, maxID: parameters.maxID, sinceID: parameters.sinceID)
        let page = try await upstream.call(.tweets, ListUserTweets.self, query, idempotent: true)
        if page.tweets.isEmpty {
            _ = try await existingUser(userID)  // an empty page of a user, or no such user
        }
        return .json(TweetPageJSON(page: page))
    }
}
