/// Timestamps as the API writes them: RFC 3339 in UTC with milliseconds and a `Z`, e.g. `2026-11-28T16:02:48.123Z`.
///
/// Pure integer arithmetic (the proleptic Gregorian calendar, as RFC 3339 requires), so it needs no formatter, no
/// locale and no lock on the hot path of every timeline read.
enum RFC3339 {
    /// Formats Unix milliseconds.
    static func string(fromUnixMillis millis: Int64) -> String {
        withFormatted(millis) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the UTF-8 bytes of the formatted time. Years 0 to 9999 are formatted in a buffer on the stack,
    /// with no `String` in between (a timeline page formats one per tweet).
    static func withFormatted<Result>(_ millis: Int64, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let (days, millisOfDay) = floorDivide(millis, 86_400_000)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        guard (0...9999).contains(year) else {
            // Outside four-digit years (RFC 3339 leaves them open): the year as its plain decimal.
            var text = String(year)
            text += withFourDigitYear(0, month, day, millisOfDay) { String(decoding: $0.dropFirst(4), as: UTF8.self) }
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
        return withFourDigitYear(year, month, day, millisOfDay, body)
    }

    private static func withFourDigitYear<Result>(
        _ year: Int64, _ month: Int64, _ day: Int64, _ millisOfDay: Int64, _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { bytes in
            var end = 0
            func put(_ value: Int64, width: Int, then separator: UInt8) {
                var value = value
                for index in stride(from: end + width - 1, through: end, by: -1) {
                    bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                bytes[end + width] = separator
                end += width + 1
            }
            let seconds = millisOfDay / 1000
            put(year, width: 4, then: UInt8(ascii: "-"))
            put(month, width: 2, then: UInt8(ascii: "-"))
            put(day, width: 2, then: UInt8(ascii: "T"))
            put(seconds / 3600, width: 2, then: UInt8(ascii: ":"))
            put(seconds / 60 % 60, width: 2, then: UInt8(ascii: ":"))
            put(seconds % 60, width: 2, then: UInt8(ascii: "."))
            put(millisOfDay % 1000, width: 3, then: UInt8(ascii: "Z"))
            return body(UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(bytes)[..<end]))
        }
    }

    /// Year, month (1-12) and day (1-31) of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let (era, _) = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }
}
