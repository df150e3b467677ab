import TLSTestSupport
import Testing

@testable import TLS

@Suite("ALPN wire format and selection")
struct ALPNTests {
    @Test func wireFormatPrefixesEachNameWithItsLength() throws {
        let wire = try ALPN.wireFormat(["h2", "http/1.1"])
        #expect(wire == [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8))
        #expect(try ALPN.wireFormat([]) == [])
    }

    @Test(arguments: ["", String(repeating: "x", count: 256)])
    func wireFormatRefusesNamesThatDoNotFitOneLengthByte(name: String) {
        #expect(throws: TLSError.self) { try ALPN.wireFormat(["http/1.1", name]) }
    }

    @Test func serverPreferenceWinsOverClientOrder() throws {
        let offer = try ALPN.wireFormat(["h2", "http/1.1"])
        let range = offer.withUnsafeBytes { ALPN.select(preference: ["http/1.1"], offer: $0) }
        let selected = try #require(range)
        #expect(String(decoding: offer[selected], as: UTF8.self) == "http/1.1")

        let both = offer.withUnsafeBytes { ALPN.select(preference: ["http/1.1", "h2"], offer: $0) }
        #expect(both.map { String(decoding: offer[$0], as: UTF8.self) } == "http/1.1")
    }

    @Test func noCommonProtocolSelectsNothing() throws {
        let offer = try ALPN.wireFormat(["h2", "spdy/3"])
        #expect(offer.withUnsafeBytes { ALPN.select(preference: ["http/1.1"], offer: $0) } == nil)
    }

    @Test(
        arguments: [
            [8] + Array("http/1.".utf8),  // length runs past the end
            [0, 8] + Array("http/1.1".utf8),  // empty name
        ] as [[UInt8]])
    func malformedOfferSelectsNothing(offer: [UInt8]) {
        #expect(offer.withUnsafeBytes { ALPN.select(preference: ["http/1.1"], offer: $0) } == nil)
    }
}
