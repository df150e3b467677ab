import NIOCore

extension ByteBuffer {
    /// Writes `value` in decimal ASCII (a `-` first when negative), with no `String` in between: the Gateway's JSON
    /// numbers and ids, and RESP's lengths, are written this way on every request.
    /// - Returns: the number of bytes written.
    @discardableResult
    public mutating func writeDecimal(_ value: Int64) -> Int {
        var written = 0
        if value < 0 {
            written += writeInteger(UInt8(ascii: "-"))
        }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of any UInt64
        withUnsafeMutableBytes(of: &digits) { room in
            var start = room.count
            repeat {
                start -= 1
                room[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            written += writeBytes(UnsafeRawBufferPointer(rebasing: room[start...]))
        }
        return written
    }
}
