/// Timestamps as the API writes them: RFC 3339 in UTC with milliseconds and a `Z`, e.g. `2026-11-28T16:02:48.123Z`.
///
/// Pure integer arithmetic (the proleptic Gregorian calendar, as RFC 3339 requires), so it needs no formatter, no
/// locale and no lock on the hot path of every timeline read.
enum RFC3339 {
    /// Formats Unix milliseconds.
    static func string(fromUnixMillis millis: Int64) -> String {
        let (days, millisOfDay) = floorDivide(millis, 86_400_000)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let seconds = millisOfDay / 1000
        var text = ""
        text.reserveCapacity(24)
        text += year >= 0 && year <= 9999 ? pad(year, 4) : String(year)
        text += "-" + pad(month, 2) + "-" + pad(day, 2)
        text += "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
        text += "." + pad(millisOfDay % 1000, 3) + "Z"
        return text
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

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
