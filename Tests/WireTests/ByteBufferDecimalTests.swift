import NIOCore
import Testing
import Wire

@Suite("Decimal digits into a buffer")
struct ByteBufferDecimalTests {
    @Test(arguments: [Int64.min, -10, -1, 0, 9, 10, 1_234_567_890, Int64.max])
    func writesWhatStringWouldAndCountsIt(_ value: Int64) {
        var buffer = ByteBuffer()
        let written = buffer.writeDecimal(value)
        #expect(String(buffer: buffer) == String(value))
        #expect(written == String(value).utf8.count)
    }
}
