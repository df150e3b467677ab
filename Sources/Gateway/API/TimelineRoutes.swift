import Hummingbird
import Wire

// Timelines: `?limit=1..200&max_id=&since_id=` (both exclusive), newest first -> `{"tweets", "next_max_id"}`.
extension APIHandlers {
    /// `GET /api/v1/timelines/public`: everyone's tweets, from the TimelineService (may lag the store by seconds).
    func publicTimeline(_ request: APIRequest) async throws -> Response {
        .json(TweetPageJSON(page: try await publicTimeline(PageParameters.parse(request.query))))
    }

    /// A page of the public timeline (the API's and the web pages').
    func publicTimeline(_ parameters: PageParameters) async throws -> TweetPage {
        let query = TimelineQuery(
            limit: try parameters.validLimit(), maxID: parameters.maxID, sinceID: parameters.sinceID)
        return try await upstream.call(.timelines, ReadPublicTimeline.self, query, idempotent: true)
    }

    /// `GET /api/v1/timelines/home` (authenticated): the caller's tweets and those of the people they follow. The same
    /// page read again within ``HomePageCache/lifetime`` of an earlier read is answered from ``homePages``.
    ///
    /// Served below Hummingbird as well (``InlineRoute``): the route whose rate is a target.
    func homeTimeline(_ request: APIRequest) async throws -> JSONAnswer {
        let query = try homeQuery(of: request.authenticatedCaller(), PageParameters.parse(request.query))
        if let body = homePages.page(for: query) {
            return JSONAnswer(status: .ok, body: body)
        }
        let sentAt = ContinuousClock.now
        let body = TweetPageJSON(page: try await homeTimeline(query)).jsonBuffer
        homePages.store(body, for: query, readSentAt: sentAt)
        return JSONAnswer(status: .ok, body: body)
    }

    /// A page of `caller`'s home timeline (the web pages').
    func homeTimeline(of caller: UserRecord, _ parameters: PageParameters) async throws -> TweetPage {
        try await homeTimeline(homeQuery(of: caller, parameters))
    }

    private func homeQuery(of caller: UserRecord, _ parameters: PageParameters) throws -> TimelineQuery {
        TimelineQuery(
            userID: caller.id, limit: try parameters.validLimit(), maxID: parameters.maxID, sinceID: parameters.sinceID)
    }

    private func homeTimeline(_ query: TimelineQuery) async throws -> TweetPage {
        try await upstream.call(.timelines, ReadHomeTimeline.self, query, idempotent: true)
    }

    /// `GET /api/v1/users/{id}/tweets`: one user's tweets straight from the TweetService's store, so a new tweet or a
    /// deletion shows at once. Checks run 400 (a query value that is not a decimal integer), 404 (not an id, or an
    /// unknown user), 422.
    func userTweets(_ request: APIRequest) async throws -> Response {
        let parameters = try PageParameters.parse(request.query)
        return .json(TweetPageJSON(page: try await userTweets(of: request.pathID(), parameters)))
    }

    /// A page of one user's tweets (the API's and the web pages').
    ///
    /// - Throws: ``APIError`` 404 for an unknown user, 422 `invalid_limit`.
    func userTweets(of userID: Int64, _ parameters: PageParameters) async throws -> TweetPage {
        let limit = try await validLimit(parameters, ofUser: userID)
        let query = TimelineQuery(userID: userID, limit: limit, maxID: parameters.maxID, sinceID: parameters.sinceID)
        let page = try await upstream.call(.tweets, ListUserTweets.self, query, idempotent: true)
        if page.tweets.isEmpty {
            _ = try await existingUser(userID)  // an empty page of a user, or no such user
        }
        return page
    }
}
