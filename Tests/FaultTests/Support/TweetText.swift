/// Tweet texts the fault tests post.
enum TweetText {
    /// Combining marks (U+0300…U+030D, two bytes of UTF-8 each) that ride on one base character.
    private static let marks = String(String.UnicodeScalarView((0x300..<0x30E).compactMap(Unicode.Scalar.init)))

    /// A text as heavy as the API takes: 280 extended grapheme clusters, each a base character with 14 combining
    /// marks (29 bytes), so 8,120 bytes of UTF-8 against the 8,192 allowed. The first three clusters carry `index`,
    /// so that every text differs.
    static func heavy(_ index: Int) -> String {
        let digits = String(index % 1000).leftPadded(to: 3)
        return (Array(digits) + Array(repeating: Character("a"), count: 277)).map { String($0) + marks }.joined()
    }

    /// A short text that no other test or run posts.
    static func unique(_ label: String) -> String {
        "\(label) \(UInt64.random(in: 0..<UInt64.max))"
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
