import struct Foundation.Date

/// The `Date` header's value (RFC 9110's IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), formatted at most once a
/// second by each owner (one per connection handler, so no lock).
struct HTTPDateCache {
    private var second: Int64 = .min
    private var text = ""

    /// The current time as an IMF-fixdate.
    mutating func now() -> String {
        let current = Int64(Date().timeIntervalSince1970.rounded(.down))
        if current != second {
            second = current
            text = Self.imfFixdate(unixSeconds: current)
        }
        return text
    }

    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats Unix seconds as an IMF-fixdate (UTC, English names, whatever the locale).
    static func imfFixdate(unixSeconds: Int64) -> String {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secondOfDay = unixSeconds - days * 86_400
        let (year, month, day) = RFC3339.civilDate(daysSinceEpoch: days)
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(weekday), \(pad(day)) \(months[Int(month - 1)]) \(year) "
            + "\(pad(secondOfDay / 3600)):\(pad(secondOfDay / 60 % 60)):\(pad(secondOfDay % 60)) GMT"
    }
}
