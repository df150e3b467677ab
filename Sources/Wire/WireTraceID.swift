/// A 128-bit id that follows one user request through every service, carried in every request frame's header.
public struct WireTraceID: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 lowercase hex digits, the form logs show. Formatted in place: every answer of the Gateway carries one.
    public var description: String {
        String(unsafeUninitializedCapacity: 32) { text in
            let digits: StaticString = "0123456789abcdef"
            for index in 0..<32 {
                let value = index < 16 ? high : low
                let shift = UInt64(60 - 4 * (index % 16))
                text[index] = digits.utf8Start[Int((value >> shift) & 0xF)]
            }
            return 32
        }
    }

    /// Parses the 32-hex-digit form; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == 32,
            let high = UInt64(text.prefix(16), radix: 16),
            let low = UInt64(text.suffix(16), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    /// The trace of the request the current task serves. A Wire server sets it around every handler, and a Wire
    /// client sends it with every call, so a trace crosses services without being passed by hand.
    @TaskLocal public static var current: WireTraceID?
}
