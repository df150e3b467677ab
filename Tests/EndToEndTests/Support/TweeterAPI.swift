import Foundation
import HTTPTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// A user of the public API: their id and session token.
struct Account: Sendable {
    var id: String
    var username: String
    var token: String
    var authorization: [(String, String)] { [("Authorization", "Bearer \(token)")] }
}

/// The public API's calls, made as a new user would, on one keep-alive connection.
struct TweeterAPI {
    let connection: HTTPSConnection

    /// A username nobody else uses, in this run or another: `prefix` plus seven base-36 digits.
    static func uniqueName(_ prefix: String) -> String {
        prefix + String(UInt64.random(in: 0..<78_364_164_096), radix: 36)
    }

    func call(
        _ method: HTTPMethod, _ uri: String, as account: Account? = nil, json: String? = nil
    ) async throws -> HTTPReply {
        var headers = account?.authorization ?? []
        if json != nil {
            headers.append(("Content-Type", "application/json"))
        }
        return try await connection.send(method, uri, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func signUp(_ prefix: String = "e") async throws -> Account {
        let username = Self.uniqueName(prefix)
        let credentials = #"{"username":"\#(username)","password":"correct horse"}"#
        let created = try await call(.POST, "/api/v1/users", json: credentials)
        guard created.status == 201, let id = try created.jsonObject()["id"] as? String else {
            throw EndToEndFailure("sign-up answered \(created.status): \(String(buffer: created.body))")
        }
        let session = try await call(.POST, "/api/v1/sessions", json: credentials)
        guard session.status == 201, let token = try session.jsonObject()["token"] as? String else {
            throw EndToEndFailure("sign-in answered \(session.status): \(String(buffer: session.body))")
        }
        return Account(id: id, username: username, token: token)
    }

    func follow(_ followee: Account, as follower: Account) async throws {
        let reply = try await call(.POST, "/api/v1/users/\(followee.id)/follow", as: follower)
        guard reply.status == 200 else { throw EndToEndFailure("follow answered \(reply.status)") }
    }

    func tweet(_ text: String, as author: Account) async throws -> String {
        let reply = try await call(.POST, "/api/v1/tweets", as: author, json: #"{"text":"\#(text)"}"#)
        guard reply.status == 201, let id = try reply.jsonObject()["id"] as? String else {
            throw EndToEndFailure("tweet answered \(reply.status): \(String(buffer: reply.body))")
        }
        return id
    }

    /// The ids on one page of a timeline, and its `next_max_id`.
    func page(_ uri: String, as account: Account? = nil) async throws -> (ids: [String], nextMaxID: String?) {
        let reply = try await call(.GET, uri, as: account)
        guard reply.status == 200 else {
            throw EndToEndFailure("\(uri) answered \(reply.status): \(String(buffer: reply.body))")
        }
        let object = try reply.jsonObject()
        guard let tweets = object["tweets"] as? [[String: Any]], object.keys.contains("next_max_id") else {
            throw EndToEndFailure("\(uri) is not a timeline page: \(String(buffer: reply.body))")
        }
        tweets.forEach { expectTweetShape($0) }
        return (tweets.compactMap { $0["id"] as? String }, object["next_max_id"] as? String)
    }

    /// Every id of a timeline, following `next_max_id` to the end.
    func allPages(_ uri: String, as account: Account? = nil) async throws -> [String] {
        var ids: [String] = []
        var maxID: String?
        repeat {
            let separator = uri.contains("?") ? "&" : "?"
            let page = try await page(uri + (maxID.map { "\(separator)max_id=\($0)" } ?? ""), as: account)
            ids += page.ids
            maxID = page.nextMaxID
        } while maxID != nil
        return ids
    }

    /// Polls `uri` until `condition` holds for its first page (fan-out is asynchronous), for up to `timeout`.
    func eventually(
        _ uri: String, as account: Account? = nil, within timeout: Duration = .seconds(20),
        _ condition: ([String]) -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(try await page(uri, as: account).ids) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return condition(try await page(uri, as: account).ids)
    }
}

/// Checks an error answer: status, `error.code`, a message, JSON.
func expectError(_ reply: HTTPReply, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, "\(String(buffer: reply.body))", sourceLocation: sourceLocation)
    #expect(reply.errorCode == code, "\(String(buffer: reply.body))", sourceLocation: sourceLocation)
    #expect(
        ((try? reply.jsonObject())?["error"] as? [String: Any])?["message"] is String, sourceLocation: sourceLocation)
    #expect(reply.headers["Content-Type"].first == "application/json", sourceLocation: sourceLocation)
}

func expectUserShape(_ object: [String: Any]?, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        Set(object?.keys ?? [:].keys) == [
            "id", "username", "created_at", "followers_count", "following_count", "tweets_count",
        ], sourceLocation: sourceLocation)
    #expect(object?["id"] is String, sourceLocation: sourceLocation)
    #expect(isRFC3339UTC(object?["created_at"]), sourceLocation: sourceLocation)
    #expect(object?["followers_count"] is Int && object?["tweets_count"] is Int, sourceLocation: sourceLocation)
}

func expectTweetShape(_ object: [String: Any]?, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        Set(object?.keys ?? [:].keys) == ["id", "user_id", "username", "text", "created_at", "in_reply_to_id"],
        sourceLocation: sourceLocation)
    #expect(
        object?["id"] is String && object?["user_id"] is String && object?["text"] is String,
        sourceLocation: sourceLocation)
    #expect(isRFC3339UTC(object?["created_at"]), sourceLocation: sourceLocation)
    #expect(object?["in_reply_to_id"] is String || object?["in_reply_to_id"] is NSNull, sourceLocation: sourceLocation)
}

/// `2026-11-28T16:02:48.123Z`.
func isRFC3339UTC(_ value: Any?) -> Bool {
    guard let text = value as? String else { return false }
    return text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil
}
