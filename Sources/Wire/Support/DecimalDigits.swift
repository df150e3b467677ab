/// Integers as decimal ASCII, formatted on the stack with no `String` in between: the Gateway's JSON numbers and ids,
/// and RESP's lengths, are written this way on every request.
public enum DecimalDigits {
    /// Calls `body` with the decimal digits of `value` (a `-` first when negative).
    public static func withFormatted<Result>(_ value: Int64, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var magnitude = value.magnitude
        var room: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: the 20 digits of any UInt64 and a sign
        return withUnsafeMutableBytes(of: &room) { room in
            var start = room.count
            repeat {
                start -= 1
                room[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                room[start] = UInt8(ascii: "-")
            }
            return body(UnsafeRawBufferPointer(rebasing: room[start...]))
        }
    }
}
