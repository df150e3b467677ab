import Foundation
import HTTPTestSupport
import NIOCore
import NIOHTTP1

/// A user of the public API: their id and session token.
struct Account: Sendable, Hashable {
    var id: Int64
    var username: String
    var token: String
    var authorization: [(String, String)] { [("Authorization", "Bearer \(token)")] }
}

/// The public API's calls, made as a user would, on one keep-alive connection to the Gateway.
struct TweeterAPI {
    let connection: HTTPSConnection

    /// A username nobody else uses, in this run or another: `prefix` plus seven base-36 digits.
    static func uniqueName(_ prefix: String) -> String {
        prefix + String(UInt64.random(in: 0..<78_364_164_096), radix: 36)
    }

    /// Sends one request, as `account` when given, with `json` as its body.
    func call(_ method: HTTPMethod, _ uri: String, as account: Account? = nil, json: String? = nil) async throws
        -> HTTPReply
    {
        var headers = account?.authorization ?? []
        if json != nil {
            headers.append(("Content-Type", "application/json"))
        }
        return try await connection.send(method, uri, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Signs up `username` (a fresh one when `nil`) and signs in.
    func signUp(_ prefix: String = "f", username: String? = nil) async throws -> Account {
        let username = username ?? Self.uniqueName(prefix)
        let credentials = #"{"username":"\#(username)","password":"correct horse"}"#
        let created = try await call(.POST, "/api/v1/users", json: credentials)
        guard created.status == 201, let id = (try created.jsonObject()["id"] as? String).flatMap({ Int64($0) }) else {
            throw FaultFailure("sign-up of \(username) answered \(created.status): \(String(buffer: created.body))")
        }
        let session = try await call(.POST, "/api/v1/sessions", json: credentials)
        guard session.status == 201, let token = try session.jsonObject()["token"] as? String else {
            throw FaultFailure("sign-in of \(username) answered \(session.status): \(String(buffer: session.body))")
        }
        return Account(id: id, username: username, token: token)
    }

    /// `POST /users/{id}/follow` (follow) or `DELETE` (unfollow); the status.
    func setFollowing(_ followee: Account, _ following: Bool, as follower: Account) async throws -> Int {
        try await call(following ? .POST : .DELETE, "/api/v1/users/\(followee.id)/follow", as: follower).status
    }

    /// Follows; throws unless the answer is 200.
    func follow(_ followee: Account, as follower: Account) async throws {
        let status = try await setFollowing(followee, true, as: follower)
        guard status == 200 else {
            throw FaultFailure("\(follower.username) following \(followee.username): \(status)")
        }
    }

    /// Posts a tweet; the answer as it is, for tests that expect refusals.
    func post(_ text: String, as author: Account) async throws -> HTTPReply {
        let body = try JSONSerialization.data(withJSONObject: ["text": text])
        return try await call(.POST, "/api/v1/tweets", as: author, json: String(decoding: body, as: UTF8.self))
    }

    /// Posts a tweet and returns its id; throws unless the answer is 201.
    func tweet(_ text: String, as author: Account) async throws -> Int64 {
        let reply = try await post(text, as: author)
        guard reply.status == 201, let id = reply.tweetID else {
            throw FaultFailure("tweet by \(author.username) answered \(reply.status): \(String(buffer: reply.body))")
        }
        return id
    }

    /// Deletes a tweet; throws unless the answer is 204.
    func delete(_ tweetID: Int64, as author: Account) async throws {
        let reply = try await call(.DELETE, "/api/v1/tweets/\(tweetID)", as: author)
        guard reply.status == 204 else {
            throw FaultFailure("deleting \(tweetID) answered \(reply.status): \(String(buffer: reply.body))")
        }
    }

    /// The ids on one page of a timeline, and its `next_max_id`.
    func page(_ uri: String, as account: Account? = nil) async throws -> (ids: [Int64], nextMaxID: String?) {
        let reply = try await call(.GET, uri, as: account)
        guard reply.status == 200 else {
            throw FaultFailure("\(uri) answered \(reply.status): \(String(buffer: reply.body))")
        }
        let object = try reply.jsonObject()
        guard let tweets = object["tweets"] as? [[String: Any]], object.keys.contains("next_max_id") else {
            throw FaultFailure("\(uri) is not a timeline page: \(String(buffer: reply.body))")
        }
        return (tweets.compactMap { ($0["id"] as? String).flatMap { Int64($0) } }, object["next_max_id"] as? String)
    }

    /// Every id of a timeline, following `next_max_id` to the end.
    func allPages(_ uri: String, as account: Account? = nil) async throws -> [Int64] {
        var ids: [Int64] = []
        var maxID: String?
        repeat {
            let separator = uri.contains("?") ? "&" : "?"
            let page = try await page(uri + (maxID.map { "\(separator)max_id=\($0)" } ?? ""), as: account)
            ids += page.ids
            maxID = page.nextMaxID
        } while maxID != nil
        return ids
    }
}

extension HTTPReply {
    /// The status and the start of the body, for failure messages.
    var summary: String {
        let body = String(buffer: body)
        return "\(status) \(body.prefix(200))\(body.count > 200 ? "…" : "")"
    }

    /// Whether this is the Gateway's 503 `unavailable`.
    var isUnavailable: Bool { status == 503 && errorCode == "unavailable" }

    /// The `id` of a tweet in the body, as a number.
    var tweetID: Int64? {
        ((try? jsonObject())?["id"] as? String).flatMap { Int64($0) }
    }
}
