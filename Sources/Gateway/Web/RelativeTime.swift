/// How the pages show when a tweet was written: short and relative ("now", "42s", "3m", "5h", "2d", then the date:
/// "Mar 3", or "Mar 3, 2025" in another year), with the exact time for `<time datetime>` and its title.
///
/// Pure integer arithmetic on Unix milliseconds in UTC, like ``RFC3339``: no formatter, no locale, no lock.
struct RelativeTime: Sendable, Hashable {
    /// The short text shown.
    let text: String
    /// RFC 3339, for `<time datetime>`.
    let machine: String
    /// The exact time for people, e.g. `2026-12-03 12:17 UTC`, for the title (a tooltip).
    let exact: String
    /// The day, e.g. `Dec 3, 2026`: when an account was made.
    let day: String

    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// - Parameters:
    ///   - millis: when it happened, in Unix milliseconds.
    ///   - nowMillis: the time the page is rendered at.
    init(millis: Int64, nowMillis: Int64) {
        machine = RFC3339.string(fromUnixMillis: millis)
        // `2026-12-03T12:17:05.123Z` -> `2026-12-03 12:17 UTC`
        exact = String(machine.prefix(10)) + " " + String(machine.dropFirst(11).prefix(5)) + " UTC"
        let date = RFC3339.civilDate(daysSinceEpoch: millis.floorDiv(86_400_000))
        let monthAndDay = "\(Self.monthNames[Int(date.month) - 1]) \(date.day)"
        day = "\(monthAndDay), \(date.year)"
        let seconds = max(0, (nowMillis - millis) / 1000)  // a clock a little behind the writer's shows "now"
        switch seconds {
        case ..<5: text = "now"
        case ..<60: text = "\(seconds)s"
        case ..<3600: text = "\(seconds / 60)m"
        case ..<86_400: text = "\(seconds / 3600)h"
        case ..<(7 * 86_400): text = "\(seconds / 86_400)d"
        default:
            let now = RFC3339.civilDate(daysSinceEpoch: nowMillis.floorDiv(86_400_000))
            text = date.year == now.year ? monthAndDay : day
        }
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (days before 1970 stay on the right day).
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return self % divisor < 0 ? quotient - 1 : quotient
    }
}
