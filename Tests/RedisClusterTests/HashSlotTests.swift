import Testing

@testable import RedisCluster

@Suite struct HashSlotTests {
    @Test func crc16MatchesTheXmodemCheckValue() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(HashSlot.crc16([UInt8]()) == 0)
    }

    /// Slots printed by `CLUSTER KEYSLOT` on Redis 7.0.
    @Test(arguments: [
        ("foo", 12182),
        ("bar", 5061),
        ("123456789", 12739),
        ("{user1000}.following", 3443),
        ("{user1000}.followers", 3443),
        ("user1000", 3443),
        ("foo{}{bar}", 8363),
        ("foo{{bar}}zap", 4015),
        ("foo{bar}{zap}", 5061),
        ("{bar", 4015),
        ("", 0),
    ])
    func knownSlots(key: String, slot: Int) {
        #expect(HashSlot(key: key).rawValue == slot)
    }

    @Test func hashTagRules() {
        func tag(_ key: String) -> String {
            String(decoding: HashSlot.hashedPart(of: Array(key.utf8)), as: UTF8.self)
        }
        #expect(tag("{user1000}.following") == "user1000")
        #expect(tag("foo{}{bar}") == "foo{}{bar}", "an empty first tag means the whole key")
        #expect(tag("foo{{bar}}zap") == "{bar", "the tag runs from the first { to the first } after it")
        #expect(tag("foo{bar}{zap}") == "bar", "only the first tag counts")
        #expect(tag("foo}{bar") == "foo}{bar", "a { with no } after it means the whole key")
        #expect(tag("plain") == "plain")
    }

    @Test func rawValueIsBounded() {
        #expect(HashSlot(rawValue: 0) != nil)
        #expect(HashSlot(rawValue: 16383) != nil)
        #expect(HashSlot(rawValue: 16384) == nil)
        #expect(HashSlot(rawValue: -1) == nil)
    }

    @Test func binaryKeysHashLikeTheirBytes() {
        let key: [UInt8] = [0xFF, 0x00, 0x7B, 0x61, 0x7D]  // "\xff\0{a}"
        #expect(HashSlot(key: key) == HashSlot(key: "a"))
    }
}
