import NIOCore
import Testing
import Wire

@testable import Gateway

/// The pure parsing under the API: query strings, page parameters, JSON bodies, bearer tokens, field rules.
@Suite("Request parsing")
struct RequestParsingTests {
    @Test func queryStringsDecodeLikeForms() {
        let query = QueryParameters("username=a%20b+c&limit=5&limit=6&flag&empty=&bad=%zz&utf8=%C3%A9")
        #expect(query["username"] == "a b c")
        #expect(query["limit"] == "5")
        #expect(query["flag"] == "")
        #expect(query["empty"] == "")
        #expect(query["bad"] == "%zz")
        #expect(query["utf8"] == "é")
        #expect(query["missing"] == nil)
        #expect(QueryParameters(nil)["limit"] == nil)
    }

    @Test func decimalsAreStrictAndSaturate() {
        #expect(PageParameters.parseDecimal("0") == 0)
        #expect(PageParameters.parseDecimal("007") == 7)
        #expect(PageParameters.parseDecimal("-12") == -12)
        #expect(PageParameters.parseDecimal("9223372036854775807") == .max)
        #expect(PageParameters.parseDecimal("9223372036854775808") == .max)
        #expect(PageParameters.parseDecimal("99999999999999999999999") == .max)
        #expect(PageParameters.parseDecimal("-9223372036854775808") == .min)
        #expect(PageParameters.parseDecimal("-99999999999999999999999") == .min)
        for text in ["", "-", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "١"] {
            #expect(PageParameters.parseDecimal(text[...]) == nil, "\(text)")
        }
    }

    @Test func idsAreDigitsThatFit() {
        #expect(PageParameters.parseID("123") == 123)
        #expect(PageParameters.parseID("9223372036854775807") == .max)
        for text in ["", "-1", "9223372036854775808", "12a", "%31"] {
            #expect(PageParameters.parseID(text[...]) == nil, "\(text)")
        }
    }

    @Test func pageParametersDeferTheLimitCheck() throws {
        let defaults = try PageParameters.parse(QueryParameters(nil))
        #expect(defaults == PageParameters(limit: 50, maxID: nil, sinceID: nil, cursor: nil))
        #expect(try defaults.validLimit() == 50)
        let outOfRange = try PageParameters.parse(QueryParameters("limit=500&max_id=9&since_id=3&cursor=4"))
        #expect(outOfRange == PageParameters(limit: 500, maxID: 9, sinceID: 3, cursor: 4))
        #expect(throws: APIError.unprocessable("invalid_limit", "limit must be an integer from 1 to 200")) {
            try outOfRange.validLimit()
        }
        #expect(throws: APIError.badRequest("cursor must be a decimal integer")) {
            try PageParameters.parse(QueryParameters("cursor=x"))
        }
    }

    @Test func jsonBodiesTellMissingFromWrongType() throws {
        let body = try JSONObjectBody(
            ByteBuffer(string: #"{"a":"x","n":null,"i":1,"b":true,"o":{"k":[1,{"z":null}]},"l":[]}"#))
        #expect(try body.requiredString("a") == "x")
        #expect(try body.optionalString("n") == nil)
        #expect(try body.optionalString("missing") == nil)
        #expect(throws: APIError.missingField("missing")) { try body.requiredString("missing") }
        for field in ["n", "i", "b", "o", "l"] {
            #expect(throws: APIError.self) { try body.requiredString(field) }
            #expect((try? body.requiredString(field)) == nil)
        }
        #expect(throws: APIError.self) { try body.optionalString("i") }
        for text in ["", "nul", "[]", "\"s\"", "1", "{\"a\":}", "{} {}", "{\"a\":\"\u{1}\"}"] {
            #expect(throws: APIError.self, "\(text)") { try JSONObjectBody(ByteBuffer(string: text)) }
        }
        var invalidUTF8 = ByteBuffer(string: #"{"a":""#)
        invalidUTF8.writeBytes([0xFF, 0xFE])
        invalidUTF8.writeString(#""}"#)
        #expect(throws: APIError.self) { try JSONObjectBody(invalidUTF8) }
    }

    @Test func bearerTokens() {
        #expect(BearerToken.parse("Bearer 12.abcdef") == "12.abcdef")
        #expect(BearerToken.parse("bearer   tok=") == "tok=")
        #expect(BearerToken.parse("BEARER a-b_c~d+e/f==") == "a-b_c~d+e/f==")
        for header in [
            nil, "", "Bearer", "Bearer ", "Basic abc", "Bearerabc", "Bearer a b", "Bearer =abc", "Bearer a=b",
            "Bearer é",
        ] {
            #expect(BearerToken.parse(header) == nil, "\(header ?? "nil")")
        }
        #expect(BearerToken.parse("Bearer " + String(repeating: "a", count: 513)) == nil)
    }

    @Test func fieldRules() {
        #expect(FieldRules.isValidUsername("a_B9"))
        #expect(!FieldRules.isValidUsername(""))
        #expect(!FieldRules.isValidUsername("sixteen_letters_"))
        #expect(!FieldRules.isValidUsername("é"))
        #expect(FieldRules.isValidPassword("12345678"))
        #expect(!FieldRules.isValidPassword("1234567"))
        #expect(FieldRules.isValidPassword(String(repeating: "🇫🇷", count: 64)))  // 128 scalars, 64 characters
        #expect(!FieldRules.isValidPassword(String(repeating: "🇫🇷", count: 65)))
        #expect(FieldRules.isValidTweetText(String(repeating: "🇫🇷", count: 280)))
        #expect(!FieldRules.isValidTweetText(String(repeating: "a", count: 281)))
        #expect(!FieldRules.isValidTweetText(""))
        #expect(FieldRules.isValidTweetText("\n"))
        #expect(!FieldRules.isValidTweetText("a\u{0}b"), "PostgreSQL's text cannot hold NUL")
    }
}
