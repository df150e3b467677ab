import Hummingbird
import Wire

// Tweets: writing, reading one, deleting.
extension APIHandlers {
    /// `POST /api/v1/tweets` `{"text", "in_reply_to_id"?}` -> 201 Tweet.
    ///
    /// Checks run 400 (body not a JSON object, `text` not a string, `in_reply_to_id` neither a string nor null), then
    /// 422: `invalid_text` (missing, or not 1 to 280 characters), `invalid_in_reply_to_id` (not decimal, or no such
    /// tweet: unknown or deleted, which the TweetService decides).
    ///
    /// Served below Hummingbird as well (``InlineRoute``): the route whose rate is a target.
    func createTweet(_ request: APIRequest) async throws -> JSONAnswer {
        let caller = try request.authenticatedCaller()
        let body = try JSONObjectBody(request.body)
        let replyTo = try body.optionalString("in_reply_to_id")
        let text = try body.requiredString("text")
        let tweet = try await postTweet(by: caller, text: text, inReplyTo: replyTo)
        return JSONAnswer(status: .created, body: TweetJSON(tweet).jsonBuffer)
    }

    /// Writes a tweet: the API's and the web pages' one way to do it.
    ///
    /// - Throws: ``APIError`` 422 `invalid_text`, `invalid_in_reply_to_id` (not decimal); the TweetService's
    ///   ``WireError`` (`invalid_in_reply_to_id` for an unknown or deleted tweet).
    func postTweet(by caller: UserRecord, text: String, inReplyTo replyTo: String?) async throws -> TweetRecord {
        try FieldRules.checkTweetText(text)
        let replyID = try replyTo.map { text throws(APIError) in try FieldRules.replyTarget(text) }
        let tweet = try await upstream.call(
            .tweets, CreateTweet.self, NewTweet(authorID: caller.id, text: text, inReplyToID: replyID))
        homePages.forget(userID: caller.id)
        return tweet
    }

    /// `GET /api/v1/tweets/{id}` -> Tweet, or 404 (also once deleted). Reads the store, so it is never stale.
    func tweet(_ request: APIRequest) async throws -> Response {
        .json(TweetJSON(try await existingTweet(request.pathID())))
    }

    /// The tweet with `id`, from the store.
    ///
    /// - Throws: ``APIError`` 404 when there is none (or it was deleted).
    func existingTweet(_ id: Int64) async throws -> TweetRecord {
        let list = try await upstream.call(.tweets, GetTweets.self, IDList(ids: [id]), idempotent: true)
        guard let tweet = list.tweets.first(where: { $0.id == id }) else {
            throw APIError.notFound("no tweet \(id)")
        }
        return tweet
    }

    /// `DELETE /api/v1/tweets/{id}` -> 204 for its author, 403 `forbidden` for anyone else, 404 when missing.
    func deleteTweet(_ request: APIRequest) async throws -> Response {
        let caller = try request.authenticatedCaller()
        try await removeTweet(request.pathID(), by: caller)
        return .noContent
    }

    /// Deletes a tweet of `caller`'s, then waits out ``HomePageCache/lifetime``: every home page that a Gateway may
    /// still serve with the tweet was read before the TweetService answered, so none is served once this returns.
    ///
    /// - Throws: ``APIError`` 403 when `caller` is not its author; the TweetService's `not_found` when it is missing.
    func removeTweet(_ id: Int64, by caller: UserRecord) async throws {
        do {
            _ = try await upstream.call(.tweets, DeleteTweet.self, TweetDeletion(tweetID: id, requesterID: caller.id))
        } catch let error where error.code == .permissionDenied {
            throw APIError.forbidden("only the author can delete a tweet")
        }
        homePages.forget(userID: caller.id)
        try await Task.sleep(for: HomePageCache.lifetime)
    }
}
