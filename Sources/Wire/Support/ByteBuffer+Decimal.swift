import NIOCore

extension ByteBuffer {
    /// Writes `value` in decimal ASCII (``DecimalDigits``).
    /// - Returns: the number of bytes written.
    @discardableResult
    public mutating func writeDecimal(_ value: Int64) -> Int {
        DecimalDigits.withFormatted(value) { writeBytes($0) }
    }
}
