import Wire

/// The API's ``FieldRules`` (shared with the TweetService through Wire) as the Gateway answers them: each violation a
/// 422 with its documented code, found before a Wire message is built.
extension FieldRules {
    static func checkUsername(_ username: String) throws(APIError) {
        guard isValidUsername(username) else {
            throw .unprocessable("invalid_username", usernameRule)
        }
    }

    static func checkPassword(_ password: String) throws(APIError) {
        guard isValidPassword(password) else {
            throw .unprocessable("invalid_password", passwordRule)
        }
    }

    static func checkTweetText(_ text: String) throws(APIError) {
        guard isValidTweetText(text) else {
            throw .unprocessable("invalid_text", tweetTextRule)
        }
    }

    /// A tweet id sent as a string in a body: decimal digits that fit an id.
    ///
    /// - Throws: ``APIError`` 422 `invalid_in_reply_to_id` for anything else (no tweet can have that id).
    static func replyTarget(_ text: String) throws(APIError) -> Int64 {
        guard let id = PageParameters.parseID(text[...]) else {
            throw .unprocessable("invalid_in_reply_to_id", "in_reply_to_id must name an existing tweet")
        }
        return id
    }
}
