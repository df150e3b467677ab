import Hummingbird
import Mustache

/// The pages' Mustache templates, parsed once when the Gateway starts, and what renders a ``Page`` into a response.
///
/// The template texts live in `Templates/` (embedded strings; docs/gateway.md says why).
struct PageTemplates: Sendable {
    /// The templates by name; each page names one, and templates include each other by these names.
    static let sources: [String: String] = [
        "layout": layout, "tweet": tweet, "tweetList": tweetList, "compose": compose, "accountFields": accountFields,
        "home": home, "account": account, "profile": profile, "people": people, "tweetPage": tweetPage,
        "error": error,
    ]

    private let library: MustacheLibrary

    /// Parses every template.
    ///
    /// - Throws: the parser's error for a template that does not parse (a bug: the unit tests parse them all).
    init() throws {
        library = MustacheLibrary(templates: try Self.sources.mapValues { try MustacheTemplate(string: $0) })
    }

    /// The HTML of `page` through the template `name`.
    ///
    /// - Precondition: `name` is one of ``sources``.
    func html(_ name: String, _ page: Page<some Any>) -> String {
        guard let html = library.render(page, withTemplate: name) else {
            preconditionFailure("no page template named \(name)")
        }
        return html
    }

    /// `page` through the template `name`, as an HTML response.
    func response(_ name: String, _ page: Page<some Any>, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html(name, page))))
    }
}
