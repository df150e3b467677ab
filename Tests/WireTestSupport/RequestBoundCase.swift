import Wire

/// One row of `docs/wire.md`'s "Request bounds" as a test: a request at the bound and one just past it, sent to a
/// live server with the real router, and what each must get back.
public struct RequestBoundCase<Context: Sendable>: Sendable, CustomStringConvertible {
    public let method: String
    public let field: String
    /// `nil` when the request at the bound must succeed; otherwise the `code/reason` of a check that comes after the
    /// bound (a username of 1,024 bytes is decoded, then found invalid), never the bound's own.
    public let atBound: String?
    /// The `code/reason` the request just past the bound is refused with.
    public let pastBound: String
    /// Sends the request at the bound (`past` false) or the one just past it (`past` true).
    public let send: @Sendable (_ context: Context, _ past: Bool) async throws -> Void

    public init(
        _ method: String, _ field: String, atBound: String?, pastBound: String,
        send: @escaping @Sendable (_ context: Context, _ past: Bool) async throws -> Void
    ) {
        self.method = method
        self.field = field
        self.atBound = atBound
        self.pastBound = pastBound
        self.send = send
    }

    /// `method field`, as ``RequestBoundsTable/boundedFields`` names it.
    public var description: String { "\(method) \(field)" }

    /// What the request at the bound and the one past it got back, each as `code/reason` (`nil` for success).
    public func outcomes(_ context: Context) async -> (atBound: String?, pastBound: String?) {
        (await wireOutcome { try await send(context, false) }, await wireOutcome { try await send(context, true) })
    }
}
