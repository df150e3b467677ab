/// A request's query string, decoded the way HTML forms encode it: `&`-separated `name=value` pairs, `+` for a space,
/// `%XX` for a byte. When a name repeats, the first value counts.
struct QueryParameters: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    /// - Parameter query: the part of the request target after `?`, without it; `nil` when there was none.
    init(_ query: Substring?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&") {
            let name: Substring
            let value: Substring
            if let equals = pair.firstIndex(of: "=") {
                name = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                name = pair
                value = ""
            }
            pairs.append((Self.formDecode(name), Self.formDecode(value)))
        }
    }

    /// The first value given for `name`.
    subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// `+` becomes a space and `%XX` its byte; a `%` not followed by two hex digits stays as it is. Bytes that are not
    /// UTF-8 become U+FFFD, which no valid value contains, so such a value fails validation later.
    static func formDecode(_ text: Substring) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var input = text.utf8[...]
        while let byte = input.popFirst() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if input.count >= 2, let high = hexValue(input[input.startIndex]),
                    let low = hexValue(input[input.index(after: input.startIndex)])
                {
                    bytes.append(high << 4 | low)
                    input = input.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value of one ASCII hex digit, either case.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// The paging parameters of the list routes, parsed in two steps so that the API's order of checks holds: a value
/// that is not a decimal integer is 400 at once (``parse(_:)``), while a `limit` outside 1...200 is 422, which comes
/// only after the route's 404 and 403 checks (``validLimit()``).
struct PageParameters: Sendable, Hashable {
    /// The API's page size bounds and default.
    static let limitRange: ClosedRange<Int64> = 1...200
    static let defaultLimit: Int64 = 50

    /// As given, saturated to `Int64`; not yet checked against ``limitRange``.
    var limit: Int64
    /// Timelines: only tweets with a smaller id (exclusive).
    var maxID: Int64?
    /// Timelines: only tweets with a larger id (exclusive).
    var sinceID: Int64?
    /// Follower lists: continue after this relationship (exclusive).
    var cursor: Int64?

    /// Reads `limit`, `max_id`, `since_id` and `cursor`; other names are ignored.
    ///
    /// - Throws: ``APIError`` 400 `bad_request` when a value is not a decimal integer (an optional `-` then ASCII
    ///   digits). A decimal integer outside `Int64` saturates: `max_id=99999999999999999999` means no upper bound.
    static func parse(_ query: QueryParameters) throws(APIError) -> PageParameters {
        PageParameters(
            limit: try decimal(query["limit"], name: "limit") ?? defaultLimit,
            maxID: try decimal(query["max_id"], name: "max_id"),
            sinceID: try decimal(query["since_id"], name: "since_id"),
            cursor: try decimal(query["cursor"], name: "cursor")
        )
    }

    /// The limit, once it is known to be in range.
    ///
    /// - Throws: ``APIError`` 422 `invalid_limit` outside 1...200 (never clamped).
    func validLimit() throws(APIError) -> UInt32 {
        guard Self.limitRange.contains(limit) else {
            throw .unprocessable("invalid_limit", "limit must be an integer from 1 to 200")
        }
        return UInt32(limit)
    }

    private static func decimal(_ text: String?, name: String) throws(APIError) -> Int64? {
        guard let text else { return nil }
        guard let value = parseDecimal(text[...]) else {
            throw .badRequest("\(name) must be a decimal integer")
        }
        return value
    }

    /// `-?[0-9]+`, saturating at `Int64.min` and `Int64.max`; `nil` for anything else (empty, `+`, spaces, `1.0`).
    static func parseDecimal(_ text: Substring) -> Int64? {
        var digits = text.utf8[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var magnitude: UInt64 = 0
        var saturated = false
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 {
                saturated = true
            } else {
                magnitude = sum
            }
        }
        if negative {
            return saturated || magnitude > UInt64(Int64.max) + 1 ? .min : Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        return saturated || magnitude > UInt64(Int64.max) ? .max : Int64(magnitude)
    }

    /// An id in a path or a body: ASCII digits only, fitting `Int64`; `nil` for anything else (no resource has it).
    static func parseID(_ segment: Substring) -> Int64? {
        guard segment.utf8.count <= 19,
            segment.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return nil }
        return Int64(segment)
    }
}
