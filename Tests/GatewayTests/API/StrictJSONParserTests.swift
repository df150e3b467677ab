import NIOCore
import Testing

@testable import Gateway

/// RFC 8259 and nothing more: what the request body parser accepts and what it answers 400 for.
@Suite("Strict JSON parser")
struct StrictJSONParserTests {
    private func parse(_ text: String) throws(StrictJSONParser.Failure) -> JSONObjectBody.Value {
        try StrictJSONParser.parse(Array(text.utf8))
    }

    @Test func acceptsWhatRFC8259Allows() throws {
        let valid = [
            #"{}"#, #" { "a" : "b" } "#, "\t{\r\n}\n", #"{"n":0}"#, #"{"n":-0}"#, #"{"n":-0.5e-3}"#, #"{"n":10E+2}"#,
            #"{"n":123456789012345678901234567890}"#, #"{"a":[1,[true,false,null],{}]}"#, #"[]"#, #""x""#, "1",
            #"{"s":"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"}"#, #"{"a":"x","A":"y"}"#,
        ]
        for text in valid {
            #expect((try? parse(text)) != nil, "\(text)")
        }
        #expect(
            try parse(#"{"s":"\u00e9\uD83D\uDE00\n","k":{"x":null}}"#)
                == .object(["s": .string("é😀\n"), "k": .object(["x": .null])]))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
    }

    @Test(arguments: [
        // Trailing commas, comments, non-finite numbers.
        #"{"a":1,}"#, #"[1,]"#, #"{"a":1 // c"#, #"{/* c */"a":1}"#, "{\"a\":1}\n# c", #"{"a":NaN}"#,
        #"{"a":Infinity}"#, #"{"a":-Infinity}"#,
        // Numbers outside the grammar.
        #"{"a":01}"#, #"{"a":-01}"#, #"{"a":+1}"#, #"{"a":.5}"#, #"{"a":1.}"#, #"{"a":1e}"#, #"{"a":0x10}"#,
        #"{"a":-}"#,
        // Keys, structure and literals.
        #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{a:1}"#, #"{'a':1}"#, #"{"a" 1}"#, #"{"a":True}"#,
        #"{"a":nul}"#, #"{} {}"#, "", " ", #"{"a":1"#, #"["#, "\u{FEFF}{}",
        // Escapes and string contents.
        #"{"a":"\x41"}"#, #"{"a":"\'"}"#, #"{"a":"\u12"}"#, #"{"a":"\u12G4"}"#, #"{"a":"\uD800"}"#,
        #"{"a":"\uDC00"}"#, #"{"a":"\uD800\u0041"}"#, #"{"a":"\uD800x"}"#, "{\"a\":\"\u{1}\"}", "{\"a\":\"\t\"}",
        "{\"a\":\"\n\"}", #"{"a":"unterminated}"#,
    ])
    func refusesWhatRFC8259DoesNot(_ text: String) {
        #expect(throws: StrictJSONParser.Failure.self, "\(text)") { try parse(text) }
        #expect(throws: APIError.self, "\(text)") { try JSONObjectBody(ByteBuffer(string: text)) }
    }

    @Test func refusesBytesThatAreNotUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: StrictJSONParser.Failure.self, "\(bytes)") { try StrictJSONParser.parse(bytes) }
        }
    }

    @Test func limitsNesting() throws {
        let deepest =
            String(repeating: "[", count: StrictJSONParser.maxDepth)
            + String(repeating: "]", count: StrictJSONParser.maxDepth)
        #expect(try parse(deepest) == .array)
        let tooDeep = String(repeating: "[", count: 60_000) + String(repeating: "]", count: 60_000)
        #expect(throws: StrictJSONParser.Failure.self) { try parse(tooDeep) }
        let tooDeepObjects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: StrictJSONParser.Failure.self) { try parse(tooDeepObjects) }
    }

    @Test func reportsWhereItStopped() {
        #expect(throws: StrictJSONParser.Failure(message: "duplicate key", offset: 7)) { try parse(#"{"a":1,"a":2}"#) }
        #expect(throws: StrictJSONParser.Failure(message: "leading zero", offset: 6)) { try parse(#"{"a":01}"#) }
    }
}
