import Hummingbird
import Wire

// The JSON shapes of the public API, fields in the order the API documents them. Ids travel as decimal strings
// (JavaScript numbers cannot hold every Int64); optional ids are written as an explicit `null`, never left out.

/// `{"id","username","created_at","followers_count","following_count","tweets_count"}`.
struct UserJSON: JSONRepresentable {
    var record: UserRecord

    init(_ record: UserRecord) {
        self.record = record
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("id")
            json.decimalString(record.id)
            json.key("username")
            json.string(record.username)
            json.key("created_at")
            json.timestamp(unixMillis: record.createdAtMillis)
            json.key("followers_count")
            json.int(record.followersCount)
            json.key("following_count")
            json.int(record.followingCount)
            json.key("tweets_count")
            json.int(record.tweetsCount)
        }
    }
}

/// `{"id","user_id","username","text","created_at","in_reply_to_id"}`.
struct TweetJSON: JSONRepresentable {
    var record: TweetRecord

    init(_ record: TweetRecord) {
        self.record = record
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("id")
            json.decimalString(record.id)
            json.key("user_id")
            json.decimalString(record.userID)
            json.key("username")
            json.string(record.username)
            json.key("text")
            json.string(record.text)
            json.key("created_at")
            json.timestamp(unixMillis: record.createdAtMillis)
            json.key("in_reply_to_id")
            json.optionalDecimalString(record.inReplyToID)
        }
    }
}

/// `{"users": [User], "next_cursor": string or null}`.
struct UserPageJSON: JSONRepresentable {
    var page: UserPage

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("users")
            json.array(page.users) { json, user in json.value(UserJSON(user)) }
            json.key("next_cursor")
            json.optionalDecimalString(page.nextCursor)
        }
    }
}

/// `{"tweets": [Tweet], "next_max_id": string or null}`.
struct TweetPageJSON: JSONRepresentable {
    var page: TweetPage

    /// The fields' names and fixed-size values (about 140 bytes a tweet) plus each tweet's text and username.
    var estimatedByteCount: Int {
        page.tweets.reduce(48) { $0 + 160 + $1.text.utf8.count + $1.username.utf8.count }
    }

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("tweets")
            json.array(page.tweets) { json, tweet in json.value(TweetJSON(tweet)) }
            json.key("next_max_id")
            json.optionalDecimalString(page.nextMaxID)
        }
    }
}

/// `{"token", "user"}`: a new session.
struct SessionJSON: JSONRepresentable {
    var token: String
    var user: UserRecord

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("token")
            json.string(token)
            json.key("user")
            json.value(UserJSON(user))
        }
    }
}

/// `{"following": bool}`.
struct FollowStateJSON: JSONRepresentable {
    var following: Bool

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("following")
            json.bool(following)
        }
    }
}

/// `{"status": ...}` for the health endpoints.
struct StatusJSON: JSONRepresentable {
    var status: String

    /// `GET /healthz`'s answer.
    static let healthy = StatusJSON(status: "ok")

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("status")
            json.string(status)
        }
    }
}

/// `{"error": {"code": ..., "message": ...}}`.
struct ErrorJSON: JSONRepresentable {
    var code: String
    var message: String

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.key("error")
            json.object { json in
                json.key("code")
                json.string(code)
                json.key("message")
                json.string(message)
            }
        }
    }
}

extension JSONRepresentable {
    /// This value as a JSON document.
    var jsonBuffer: ByteBuffer {
        var writer = JSONWriter(capacity: estimatedByteCount)
        write(to: &writer)
        return writer.buffer
    }
}

extension Response {
    /// A response with `value` as its JSON body.
    static func json(_ value: some JSONRepresentable, status: HTTPResponse.Status = .ok) -> Response {
        .json(body: value.jsonBuffer, status: status)
    }

    /// A response with `answer`'s JSON body and status.
    static func json(_ answer: JSONAnswer) -> Response {
        .json(body: answer.body, status: answer.status)
    }

    /// A response with `body`, a JSON document written already.
    static func json(body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: body))
    }

    /// 204 without a body.
    static var noContent: Response {
        Response(status: .noContent)
    }
}
