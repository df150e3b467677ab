/// The API's rules for what users send, checked in the Gateway so that every violation gets its documented 422
/// code before a Wire message is built. The TweetService checks the same rules again as the source of truth.
enum FieldRules {
    static let usernameLength = 1...15
    static let passwordLength = 8...128
    static let tweetLength = 1...280
    /// A grapheme cluster may hold any number of combining marks, so the bytes are bounded too (as in the TweetService).
    static let maxTweetBytes = 8192

    /// 1 to 15 of `A-Z a-z 0-9 _`.
    static func isValidUsername(_ username: String) -> Bool {
        usernameLength.contains(username.utf8.count)
            && username.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            }
    }

    /// 8 to 128 Unicode scalars.
    static func isValidPassword(_ password: String) -> Bool {
        // Counting stops early, so a 64 KiB password costs no more than a short one.
        let count = password.unicodeScalars.prefix(passwordLength.upperBound + 1).count
        return passwordLength.contains(count)
    }

    /// 1 to 280 extended grapheme clusters (Swift's `Character`), whitespace included as sent; at most 8 KiB of UTF-8.
    static func isValidTweetText(_ text: String) -> Bool {
        text.utf8.count <= maxTweetBytes && tweetLength.contains(text.prefix(tweetLength.upperBound + 1).count)
    }

    static func checkUsername(_ username: String) throws(APIError) {
        guard isValidUsername(username) else {
            throw .unprocessable("invalid_username", "username must be 1 to 15 of A-Z, a-z, 0-9 and _")
        }
    }

    static func checkPassword(_ password: String) throws(APIError) {
        guard isValidPassword(password) else {
            throw .unprocessable("invalid_password", "password must be 8 to 128 characters")
        }
    }

    static func checkTweetText(_ text: String) throws(APIError) {
        guard isValidTweetText(text) else {
            throw .unprocessable("invalid_text", "text must be 1 to 280 characters")
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
