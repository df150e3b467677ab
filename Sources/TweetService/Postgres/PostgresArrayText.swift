// PostgreSQL's text form of arrays, for statement parameters such as `$1::bigint[]` and `$2::text[]`.

extension Array where Element == Int64 {
    /// A `bigint[]`, for `= ANY($1::bigint[])`.
    var postgresArray: String { "{" + map(String.init).joined(separator: ",") + "}" }
}

extension Array where Element == Int64? {
    /// A `bigint[]` whose missing elements are `NULL`.
    var postgresArray: String { "{" + map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}" }
}

extension Array where Element == String {
    /// A `text[]`: every element quoted, with its backslashes and double quotes escaped, so that any text (braces,
    /// commas, quotes, newlines, the word NULL) arrives as written.
    var postgresArray: String {
        var literal = "{"
        for (index, element) in enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in element.unicodeScalars {
                if character == "\\" || character == "\"" { literal.unicodeScalars.append("\\") }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }
}
