import Wire

/// The API's ``FieldRules`` as the TweetService enforces them: each failure an `invalid_argument` with a reason naming
/// the field.
public enum Validation {
    public static func checkUsername(_ username: String) throws(WireError) {
        guard FieldRules.isValidUsername(username) else {
            throw WireError(.invalidArgument, reason: "invalid_username", FieldRules.usernameRule)
        }
    }

    public static func checkPassword(_ password: String) throws(WireError) {
        guard FieldRules.isValidPassword(password) else {
            throw WireError(.invalidArgument, reason: "invalid_password", FieldRules.passwordRule)
        }
    }

    public static func checkTweetText(_ text: String) throws(WireError) {
        guard FieldRules.isValidTweetText(text) else {
            throw WireError(.invalidArgument, reason: "invalid_text", FieldRules.tweetTextRule)
        }
    }
}
