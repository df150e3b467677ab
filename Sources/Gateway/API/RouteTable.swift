import Hummingbird

/// A path template such as `/api/v1/users/{id}/follow` or `/@{username}`: literal segments, and `{name}` captures of
/// a whole segment or of what follows a literal prefix in it (`@{username}` matches `@alice` and captures `alice`).
struct RouteTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        /// A non-empty capture after `prefix` (empty for a whole segment).
        case capture(prefix: String, name: String)
    }

    let segments: [Segment]
    /// The template as written; the route label in metrics and logs.
    let description: String

    init(_ template: String) {
        precondition(template.hasPrefix("/"), "a route template starts with /")
        description = template
        // Split as paths are (``RouteTable/resolve(_:path:)``), so that `/` is one empty literal segment.
        segments = template.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { segment in
            if let open = segment.firstIndex(of: "{"), segment.hasSuffix("}") {
                .capture(
                    prefix: String(segment[..<open]), name: String(segment[segment.index(after: open)...].dropLast()))
            } else {
                .literal(String(segment))
            }
        }
    }

    /// The captured segments in order, if `path` (already split at `/`) fits the template.
    func match(_ path: [Substring]) -> [Substring]? {
        guard path.count == segments.count else { return nil }
        var captures: [Substring] = []
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let literal):
                guard part == literal else { return nil }
            case .capture(let prefix, _):
                guard part.count > prefix.count, part.hasPrefix(prefix) else { return nil }
                captures.append(part.dropFirst(prefix.count))
            }
        }
        return captures
    }
}

/// Maps a method and a path to an endpoint, telling "no such path" (404) from "no such method here" (405).
///
/// Templates are tried in the order they were first added, so a literal segment must be added before a capture that
/// would also match it. Pure and without I/O, so routing is tested without a server.
struct RouteTable<Endpoint: Sendable>: Sendable {
    enum Resolution {
        case found(Endpoint, captures: [Substring], template: RouteTemplate)
        /// The path exists but not with this method; `allowed` is what the `Allow` header lists.
        case methodNotAllowed(allowed: [HTTPRequest.Method], template: RouteTemplate)
        case notFound
    }

    private struct Entry: Sendable {
        let template: RouteTemplate
        var endpoints: [(method: HTTPRequest.Method, endpoint: Endpoint)]
    }

    private var entries: [Entry] = []

    /// Serves `method` on `template` with `endpoint`.
    mutating func add(_ method: HTTPRequest.Method, _ template: String, _ endpoint: Endpoint) {
        let template = RouteTemplate(template)
        if let index = entries.firstIndex(where: { $0.template == template }) {
            precondition(
                !entries[index].endpoints.contains { $0.method == method }, "\(method) \(template) added twice")
            entries[index].endpoints.append((method, endpoint))
        } else {
            entries.append(Entry(template: template, endpoints: [(method, endpoint)]))
        }
    }

    /// Every template with the methods it serves, in the order added (for documentation checks).
    var routes: [(template: RouteTemplate, methods: [HTTPRequest.Method])] {
        entries.map { ($0.template, $0.endpoints.map(\.method)) }
    }

    /// Finds the endpoint for `method` on `path` (the path alone, without the query).
    ///
    /// A trailing slash or an empty segment is part of the path: `/api/v1/users/` does not match `/api/v1/users`.
    func resolve(_ method: HTTPRequest.Method, path: Substring) -> Resolution {
        guard path.hasPrefix("/") else { return .notFound }
        let parts = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for entry in entries {
            guard let captures = entry.template.match(parts) else { continue }
            if let match = entry.endpoints.first(where: { $0.method == method }) {
                return .found(match.endpoint, captures: captures, template: entry.template)
            }
            return .methodNotAllowed(allowed: entry.endpoints.map(\.method), template: entry.template)
        }
        return .notFound
    }
}
