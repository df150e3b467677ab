import NIOCore
import Testing

@testable import Wire

/// A message that uses every field shape, for round trips and malformed input.
private struct Everything: WireMessage, Hashable {
    var flag: Bool
    var number: Int64
    var name: String
    var nickname: String?
    var ids: [UInt64]
    var nested: [HealthCheck.Response]

    init(flag: Bool, number: Int64, name: String, nickname: String?, ids: [UInt64], nested: [HealthCheck.Response]) {
        self.flag = flag
        self.number = number
        self.name = name
        self.nickname = nickname
        self.ids = ids
        self.nested = nested
    }

    init(from reader: inout WireReader) throws(WireError) {
        flag = try reader.read()
        number = try reader.read()
        name = try reader.read(String.self)
        nickname = try reader.readOptional { (reader: inout WireReader) throws(WireError) in
            try reader.read(String.self)
        }
        ids = try reader.read()
        nested = try reader.read()
    }

    func encode(to writer: inout WireWriter) {
        writer.write(flag)
        writer.write(number)
        writer.write(name)
        writer.write(nickname) { writer, value in writer.write(value) }
        writer.write(ids)
        writer.write(nested)
    }
}

@Suite("Payload codec")
struct WireCodecTests {
    private let sample = Everything(
        flag: true, number: -2, name: "é", nickname: nil, ids: [1, .max], nested: [HealthCheck.Response(service: "a")]
    )
    private let sampleGolden = """
        01 fffffffffffffffe 00000002 c3a9 00 00000002 0000000000000001 ffffffffffffffff
        00000001 00000005 00000001 61
        """

    @Test func everyShapeMatchesGoldenBytesAndRoundTrips() throws {
        let payload = sample.payload()
        #expect(payload.hex == bytes(sampleGolden).hex)
        #expect(try Everything(payload: payload) == sample)
    }

    @Test func presentOptionalRoundTrips() throws {
        var value = sample
        value.nickname = "nick"
        #expect(try Everything(payload: value.payload()) == value)
    }

    @Test func everyTruncationIsATypedError() {
        let whole = bytes(sampleGolden)
        for cut in 0..<whole.readableBytes {
            do {
                _ = try Everything(payload: whole.getSlice(at: 0, length: cut)!)
                Issue.record("decoded \(cut) of \(whole.readableBytes) bytes")
            } catch {
                #expect(error.code == .invalidArgument)
            }
        }
    }

    @Test func invalidUTF8IsRefused() {
        do {
            _ = try HealthCheck.Response(payload: bytes("00000002 c328"))
            Issue.record("decoded invalid UTF-8")
        } catch {
            #expect(error.reason == "invalid_utf8")
        }
    }

    @Test func stringLengthPastThePayloadIsTruncation() {
        do {
            _ = try HealthCheck.Response(payload: bytes("ffffffff 61"))
            Issue.record("decoded a string longer than its payload")
        } catch {
            #expect(error.reason == "truncated")
        }
    }

    @Test func hugeArrayCountIsRefusedBeforeAllocating() {
        var reader = WireReader(buffer: bytes("ffffffff 0000000000000001"))
        do {
            _ = try reader.read([UInt64].self)
            Issue.record("accepted an array count past the payload")
        } catch {
            #expect(error.reason == "truncated")
        }
    }

    @Test func boolMustBeZeroOrOne() {
        var reader = WireReader(buffer: bytes("02"))
        #expect(throws: WireError.self) { try reader.read(Bool.self) }
    }

    @Test func stringOverItsLimitIsRefused() {
        var reader = WireReader(buffer: bytes("00000003 616263"))
        do {
            _ = try reader.read(String.self, maxBytes: 2)
            Issue.record("accepted an over-long string")
        } catch {
            #expect(error.reason == "too_long")
        }
    }

    @Test func nestedMessageSkipsFieldsItDoesNotKnow() throws {
        // A newer peer appended a u32 to the nested message; an older reader still reads the next field right.
        var reader = WireReader(buffer: bytes("00000009 00000001 61 0000002a  00000001 62"))
        let nested = try reader.read(HealthCheck.Response.self)
        #expect(nested.service == "a")
        #expect(try reader.read(String.self) == "b")
    }
}

/// The page budget counts tweets without encoding them: the count must be the encoding's size.
@Suite("Tweet sizes")
struct TweetSizeTests {
    @Test(arguments: [
        TweetRecord(id: 1, userID: 2, username: "ann", text: "hello", createdAtMillis: 3, inReplyToID: nil),
        TweetRecord(id: .max, userID: 9, username: "bo", text: "héllo — 🌍", createdAtMillis: -1, inReplyToID: 7),
        TweetRecord(id: 0, userID: 0, username: "", text: "", createdAtMillis: 0, inReplyToID: 0),
    ])
    func theCountedSizeIsTheEncodedSize(tweet: TweetRecord) {
        #expect(tweet.payloadByteCount == tweet.payload().readableBytes)
        let list = TweetList(tweets: [tweet, tweet])
        #expect(list.estimatedPayloadByteCount == list.payload().readableBytes)
        let page = TweetPage(tweets: [tweet, tweet, tweet], nextMaxID: tweet.id)
        #expect(page.estimatedPayloadByteCount == page.payload().readableBytes, "exact when the page continues")
    }

    @Test func aPageIsCutAtTheBudget() {
        let text = String(repeating: "x", count: 4_000)
        let tweets = (0..<200).map {
            TweetRecord(id: Int64($0), userID: 1, username: "ann", text: text, createdAtMillis: 0, inReplyToID: nil)
        }
        let fitting = TweetListBudget.fittingCount(of: tweets)
        #expect(fitting == TweetListBudget.maxBytes / tweets[0].payload().readableBytes)
        #expect(TweetListBudget.mayHaveBeenCut(Array(tweets.prefix(fitting))))
        #expect(!TweetListBudget.mayHaveBeenCut(Array(tweets.prefix(3))))
    }
}
