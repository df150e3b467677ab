import NIOCore
import Testing

@testable import RedisCluster

@Suite struct RedisValueTests {
    @Test func accessorsReadTheMatchingKinds() {
        #expect(RedisValue(bulk: "12").integer == 12)
        #expect(RedisValue.integer(7).integer == 7)
        #expect(RedisValue.simpleString("OK").string == "OK")
        #expect(RedisValue(bulk: "2.5").double == 2.5)
        #expect(RedisValue.integer(3).double == 3)
        #expect(RedisValue(bulk: [0, 255]).bytes == [0, 255])
        #expect(RedisValue.array([.null]).array == [.null])
        #expect(RedisValue.null.isNull)
        #expect(RedisValue.error("ERR x").errorMessage == "ERR x")
    }

    @Test func accessorsReturnNilForOtherKinds() {
        #expect(RedisValue.null.string == nil)
        #expect(RedisValue.error("ERR 1").integer == nil)
        #expect(RedisValue(bulk: "abc").integer == nil)
        #expect(RedisValue.integer(1).array == nil)
        #expect(RedisValue.integer(1).bytes == nil)
        #expect(RedisValue.simpleString("OK").errorMessage == nil)
        #expect(!RedisValue.array([]).isNull)
    }

    @Test func describesLikeRedisCli() {
        let value = RedisValue.array([.integer(1), RedisValue(bulk: "a"), .null, .error("ERR e"), .simpleString("OK")])
        #expect(value.description == #"[(integer) 1, "a", (nil), (error) ERR e, OK]"#)
        let long = RedisValue(bulk: String(repeating: "x", count: 100)).description
        #expect(long.hasSuffix("... (100 bytes)\""))
    }
}
