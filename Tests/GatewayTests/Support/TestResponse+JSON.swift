import Foundation
import Hummingbird
import HummingbirdTesting
import TLSTestSupport
import Testing

extension TestResponse {
    /// The body as a JSON object.
    func jsonObject() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed])
        guard let object = value as? [String: Any] else {
            throw TestFailure("body is not a JSON object: \(String(buffer: body))")
        }
        return object
    }

    /// `error.code` of an error body.
    var errorCode: String? {
        ((try? jsonObject())?["error"] as? [String: Any])?["code"] as? String
    }

    /// The tweets of a timeline page.
    func tweets() throws -> [[String: Any]] {
        guard let tweets = try jsonObject()["tweets"] as? [[String: Any]] else {
            throw TestFailure("no tweets in \(String(buffer: body))")
        }
        return tweets
    }
}

/// Checks status and error code (and that the body is exactly `{"error": {"code", "message"}}`).
func expectError(
    _ response: TestResponse, _ status: HTTPResponse.Status, _ code: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, "body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
    #expect(response.errorCode == code, "body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
    let error = (try? response.jsonObject())?["error"] as? [String: Any]
    #expect(error?["message"] is String, sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
}

/// Checks that `object` has exactly the User fields, with the API's types.
func expectUserShape(_ object: [String: Any]?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let object else {
        Issue.record("no user object", sourceLocation: sourceLocation)
        return
    }
    #expect(
        Set(object.keys) == ["id", "username", "created_at", "followers_count", "following_count", "tweets_count"],
        sourceLocation: sourceLocation)
    #expect(object["id"] is String, sourceLocation: sourceLocation)
    #expect(object["username"] is String, sourceLocation: sourceLocation)
    #expect((object["created_at"] as? String)?.hasSuffix("Z") == true, sourceLocation: sourceLocation)
    for counter in ["followers_count", "following_count", "tweets_count"] {
        #expect(object[counter] is Int, sourceLocation: sourceLocation)
    }
}

/// Checks that `object` has exactly the Tweet fields, with the API's types.
func expectTweetShape(_ object: [String: Any]?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let object else {
        Issue.record("no tweet object", sourceLocation: sourceLocation)
        return
    }
    #expect(
        Set(object.keys) == ["id", "user_id", "username", "text", "created_at", "in_reply_to_id"],
        sourceLocation: sourceLocation)
    #expect(object["id"] is String, sourceLocation: sourceLocation)
    #expect(object["user_id"] is String, sourceLocation: sourceLocation)
    #expect(object["text"] is String, sourceLocation: sourceLocation)
    #expect((object["created_at"] as? String)?.hasSuffix("Z") == true, sourceLocation: sourceLocation)
    #expect(object["in_reply_to_id"] is String || object["in_reply_to_id"] is NSNull, sourceLocation: sourceLocation)
}
