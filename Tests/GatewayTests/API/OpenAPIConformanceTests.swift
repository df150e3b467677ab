import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// The little of `docs/openapi.yaml` these checks need, read from its text: it is our own file, written in a fixed
/// layout (two-space indents, one path or method per line), so no YAML parser is needed.
struct OpenAPIDocument {
    struct Operation: Hashable {
        var method: String
        var path: String
        var statuses: Set<Int>
    }

    var operations: [Operation] = []
    /// `required` of each schema in `components/schemas`.
    var requiredFields: [String: Set<String>] = [:]

    static func load() throws -> OpenAPIDocument {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        var document = OpenAPIDocument()
        var section = ""
        var path = ""
        var schema = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" "), line.hasSuffix(":") {
                section = String(line.dropLast())
            } else if section == "paths", let match = line.wholeMatch(of: #/  (/\S*):/#) {
                path = String(match.1)
            } else if section == "paths", let match = line.wholeMatch(of: #/    (get|post|put|patch|delete):/#) {
                document.operations.append(Operation(method: match.1.uppercased(), path: path, statuses: []))
            } else if section == "paths", let match = line.firstMatch(of: /^        "(\d{3})":/),
                let status = Int(match.1)
            {
                document.operations[document.operations.count - 1].statuses.insert(status)
            } else if section == "components", let match = line.wholeMatch(of: #/    ([A-Za-z]+):/#) {
                schema = String(match.1)
            } else if section == "components", let match = line.wholeMatch(of: #/      required: \[(.*)\]/#) {
                document.requiredFields[schema] = Set(
                    match.1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            }
        }
        return document
    }
}

@Suite("docs/openapi.yaml matches the served API")
struct OpenAPIConformanceTests {
    @Test func everyDocumentedOperationIsRoutedAndNothingElse() throws {
        let document = try OpenAPIDocument.load()
        #expect(document.operations.count == 18)
        let served = APIHandlers.routeTable().routes.flatMap { route in
            route.methods.map { "\($0.rawValue) \(route.template)" }
        }
        #expect(Set(served) == Set(document.operations.map { "\($0.method) \($0.path)" }))
    }

    /// Each operation, called with made-up ids and no token or body, answers one of its documented statuses.
    @Test func everyOperationAnswersADocumentedStatus() async throws {
        let document = try OpenAPIDocument.load()
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                for operation in document.operations {
                    let uri = operation.path.replacingOccurrences(of: "{id}", with: "424242")
                    let response = try await client.execute(
                        uri: uri, method: HTTPRequest.Method(operation.method)!, headers: [:], body: nil)
                    #expect(
                        operation.statuses.contains(Int(response.status.code)),
                        "\(operation.method) \(uri) answered \(response.status)")
                }
            }
        }
    }

    /// Real answers have exactly the fields the schemas require (and every schema lists all of its fields).
    @Test func responsesHaveTheDocumentedFields() async throws {
        let required = try OpenAPIDocument.load().requiredFields
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (aliceID, token) = try await api.signUp("alice")
                let (bobID, _) = try await api.signUp("bob")
                let credentials = #"{"username":"alice","password":"password123"}"#
                let shapes: [(String, TestResponse)] = [
                    ("User", try await api.call(.get, "/api/v1/users/\(aliceID)")),
                    ("Session", try await api.call(.post, "/api/v1/sessions", json: credentials)),
                    ("Tweet", try await api.call(.post, "/api/v1/tweets", token: token, json: #"{"text":"hi"}"#)),
                    ("FollowState", try await api.call(.post, "/api/v1/users/\(bobID)/follow", token: token)),
                    ("UserPage", try await api.call(.get, "/api/v1/users/\(bobID)/followers")),
                    ("TweetPage", try await api.call(.get, "/api/v1/timelines/home", token: token)),
                    ("Status", try await api.call(.get, "/healthz")),
                    ("Error", try await api.call(.get, "/api/v1/users/1")),
                ]
                for (schema, response) in shapes {
                    let fields = try #require(required[schema], "no schema \(schema)")
                    #expect(Set(try response.jsonObject().keys) == fields, "\(schema)")
                }
            }
        }
    }
}
