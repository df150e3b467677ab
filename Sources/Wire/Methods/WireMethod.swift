/// The number that names a method in a request frame. Numbers are assigned in `docs/wire.md` and never reused.
public struct WireMethodID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Frames that are not requests or responses carry method 0.
    public static let none = WireMethodID(rawValue: 0)

    public var description: String { String(rawValue) }
}

/// A remote procedure: its number and the messages it takes and returns. Services declare their methods in `Wire`
/// so that callers and servers share one definition.
public protocol WireMethod: Sendable {
    associatedtype Request: WireMessage
    associatedtype Response: WireMessage

    static var id: WireMethodID { get }
    /// A stable snake_case name for logs and metrics.
    static var name: String { get }
    /// The roles a server serves this method to; every other caller gets `permission_denied/role_not_allowed`.
    /// The whole table is in `docs/wire.md`, "Who may call what".
    static var callers: WireCallers { get }
    /// Refuses a decoded request that asks for more than the method serves (too many ids, a limit out of range), so
    /// that no caller, whatever its role, can make one request cost without bound. The router calls it after decoding
    /// and before the handler; a method whose request has a fixed size checks nothing. Every method's bounds are in
    /// `docs/wire.md`, "Request bounds".
    ///
    /// - Throws: `invalid_argument` with a reason from ``WireRequestBounds``.
    static func checkBounds(_ request: Request) throws(WireError)
}
