/// What users may send, as the API promises it: the Gateway checks these rules to answer each violation with its
/// documented code before a message is built, and the TweetService checks them again as the source of truth. One
/// definition, so that the two can never disagree.
public enum FieldRules {
    public static let usernameLength = 1...15
    public static let passwordLength = 8...128
    public static let tweetLength = 1...280
    /// A grapheme cluster may hold any number of combining marks, so a tweet's bytes are bounded too.
    public static let maxTweetBytes = 8192

    /// 1 to 15 of `A-Z a-z 0-9 _`.
    public static func isValidUsername(_ username: String) -> Bool {
        usernameLength.contains(username.utf8.count)
            && username.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            }
    }

    /// 8 to 128 Unicode scalars. Counting stops early, so a 64 KiB password costs no more than a short one.
    public static func isValidPassword(_ password: String) -> Bool {
        passwordLength.contains(password.unicodeScalars.prefix(passwordLength.upperBound + 1).count)
    }

    /// 1 to 280 extended grapheme clusters (Swift's `Character`), whitespace included as sent; at most 8 KiB of UTF-8;
    /// no NUL (U+0000), which PostgreSQL's text cannot hold.
    public static func isValidTweetText(_ text: String) -> Bool {
        text.utf8.count <= maxTweetBytes && !text.utf8.contains(0)
            && tweetLength.contains(text.prefix(tweetLength.upperBound + 1).count)
    }

    public static let usernameRule = "username must be 1 to 15 of A-Z, a-z, 0-9 and _"
    public static let passwordRule = "password must be 8 to 128 characters"
    public static let tweetTextRule = "text must be 1 to 280 characters, without NUL"
}
