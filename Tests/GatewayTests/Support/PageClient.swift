import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import TLSTestSupport

/// A browser, as far as the pages' tests need one: a cookie jar, form posts, and the CSRF token of the last page.
final class PageClient: Sendable {
    let client: any TestClientProtocol
    private let jar = Mutex<[String: String]>([:])

    init(client: any TestClientProtocol) {
        self.client = client
    }

    /// The cookies the browser holds.
    var cookies: [String: String] { jar.withLock { $0 } }

    /// A GET (or any method without a body), with the jar's cookies; keeps what the answer sets.
    @discardableResult
    func get(_ uri: String) async throws -> TestResponse {
        try await send(.get, uri, body: nil)
    }

    /// Posts `fields` as `application/x-www-form-urlencoded`, with the jar's cookies.
    @discardableResult
    func post(_ uri: String, _ fields: [(String, String)]) async throws -> TestResponse {
        let body = fields.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        return try await send(.post, uri, body: ByteBuffer(string: body))
    }

    /// Loads `page` and posts `fields` to `action` with the page's CSRF token, as a person submitting its form.
    @discardableResult
    func submit(on page: String, to action: String, _ fields: [(String, String)]) async throws -> TestResponse {
        let token = try Self.csrfToken(in: try await get(page))
        return try await post(action, fields + [("csrf", token)])
    }

    /// Signs up `username` (password `password123`) through the form; the jar then holds the session.
    func signUp(_ username: String) async throws {
        let answer = try await submit(
            on: "/signup", to: "/signup", [("username", username), ("password", "password123")])
        guard answer.status == .seeOther else { throw TestFailure("sign-up answered \(answer.status)") }
    }

    /// The value of the first hidden `csrf` field of a page.
    static func csrfToken(in response: TestResponse) throws -> String {
        let html = String(buffer: response.body)
        guard let match = html.firstMatch(of: #/name="csrf" value="([0-9a-f]*)"/#), !match.1.isEmpty else {
            throw TestFailure("no CSRF token in the page (\(response.status))")
        }
        return String(match.1)
    }

    private func send(_ method: HTTPRequest.Method, _ uri: String, body: ByteBuffer?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        let cookie = jar.withLock { $0.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if !cookie.isEmpty {
            headers[.cookie] = cookie
        }
        if body != nil {
            headers[.contentType] = "application/x-www-form-urlencoded"
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for setCookie in response.headers[values: .setCookie] {
            let pair = setCookie.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let (name, value) = (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            jar.withLock { jar in
                if value.isEmpty || setCookie.contains("Max-Age=0") { jar[name] = nil } else { jar[name] = value }
            }
        }
        return response
    }

    private static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.append(Character(Unicode.Scalar(byte)))
            case UInt8(ascii: " "):
                out.append("+")
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

extension TestResponse {
    /// The body as text (a page's HTML).
    var html: String { String(buffer: body) }
}
