/// The token in an `Authorization: Bearer <token>` header (RFC 6750).
enum BearerToken {
    /// Tokens longer than this are refused without asking the TweetService.
    static let maxLength = 512

    /// The token, or `nil` when the header is missing, names another scheme, or holds something that is not a
    /// `token68` (letters, digits, `-._~+/`, then optional `=` padding). The scheme is case-insensitive.
    static func parse(_ header: String?) -> String? {
        guard let header else { return nil }
        let utf8 = header.utf8
        let scheme = "bearer".utf8
        guard utf8.count > scheme.count + 1,
            zip(utf8, scheme).allSatisfy({ $0 | 0x20 == $1 }),
            utf8.dropFirst(scheme.count).first == UInt8(ascii: " ")
        else { return nil }
        let token = utf8.dropFirst(scheme.count).drop { $0 == UInt8(ascii: " ") }
        guard !token.isEmpty, token.count <= maxLength else { return nil }
        let body = token.prefix { $0 != UInt8(ascii: "=") }
        guard !body.isEmpty, body.allSatisfy(isToken68Character),
            token.dropFirst(body.count).allSatisfy({ $0 == UInt8(ascii: "=") })
        else { return nil }
        return String(decoding: token, as: UTF8.self)
    }

    private static func isToken68Character(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"),
            UInt8(ascii: "/"):
            true
        default:
            false
        }
    }
}
