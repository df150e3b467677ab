import Wire

/// The rules for what users may send, each failure an `invalid_argument` with a reason naming the field.
public enum Validation {
    public static let usernameLength = 1...15
    public static let passwordLength = 8...128
    public static let tweetLength = 1...280
    /// A grapheme cluster may hold any number of combining marks, so the bytes are bounded too.
    public static let maxTweetBytes = 8192

    /// 1 to 15 of `[A-Za-z0-9_]`.
    public static func checkUsername(_ username: String) throws(WireError) {
        let valid = usernameLength.contains(username.utf8.count)
            && username.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            }
        guard valid else {
            throw WireError(.invalidArgument, reason: "invalid_username", "username must be 1 to 15 of A-Z, a-z, 0-9 and _")
        }
    }

    /// 8 to 128 Unicode scalars.
    public static func checkPassword(_ password: String) throws(WireError) {
        guard passwordLength.contains(password.unicodeScalars.count) else {
            throw WireError(.invalidArgument, reason: "invalid_password", "password must be 8 to 128 characters")
        }
    }

    /// 1 to 280 extended grapheme clusters, as written: whitespace counts and is kept; at most 8 KiB of UTF-8.
    public static func checkTweetText(_ text: String) throws(WireError) {
        guard text.utf8.count <= maxTweetBytes, tweetLength.contains(text.count) else {
            throw WireError(.invalidArgument, reason: "invalid_text", "text must be 1 to 280 characters")
        }
    }
}
