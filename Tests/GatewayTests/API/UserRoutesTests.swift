import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

/// Sign-up, sign-in and user lookup through the Gateway's responder, against stand-in services over real Wire.
@Suite("Users and sessions")
struct UserRoutesTests {
    @Test func signUpAnswers201WithTheUserShape() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let response = try await api.call(
                    .post, "/api/v1/users", json: #"{"username":"alice","password":"password123"}"#)
                #expect(response.status == .created)
                let user = try response.jsonObject()
                expectUserShape(user)
                #expect(user["username"] as? String == "alice")
                #expect(user["followers_count"] as? Int == 0)
                #expect(response.headers[GatewayResponder.requestIDField]?.count == 32)
            }
        }
    }

    @Test func signUpErrors() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                _ = try await api.signUp("alice")
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":"alice","password":"password123"}"#),
                    .conflict, "username_taken")
                expectError(
                    try await api.call(
                        .post, "/api/v1/users", json: #"{"username":"bad name","password":"password123"}"#),
                    .unprocessableContent, "invalid_username")
                expectError(
                    try await api.call(
                        .post, "/api/v1/users", json: #"{"username":"sixteen_chars_xx","password":"password123"}"#),
                    .unprocessableContent, "invalid_username")
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":"bob","password":"short"}"#),
                    .unprocessableContent, "invalid_password")
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"password":"password123"}"#),
                    .unprocessableContent, "invalid_username")
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":"bob"}"#), .unprocessableContent,
                    "invalid_password")
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":null,"password":"password123"}"#),
                    .badRequest, "bad_request")
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":7,"password":"password123"}"#),
                    .badRequest, "bad_request")
                // A wrong type is 400 even when an earlier field is missing (400 comes before 422).
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"password":5}"#), .badRequest, "bad_request")
                expectError(
                    try await api.call(.post, "/api/v1/sessions", json: #"{"password":false}"#), .badRequest,
                    "bad_request")
                expectError(try await api.call(.post, "/api/v1/users", json: #"["alice"]"#), .badRequest, "bad_request")
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":"bob","#), .badRequest, "bad_request"
                )
                expectError(try await api.call(.post, "/api/v1/users"), .badRequest, "bad_request")
            }
        }
    }

    @Test func passwordLengthCountsUnicodeScalars() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                // Eight scalars, 32 bytes: long enough. Seven emoji with a joiner-free run: too short.
                let eight = String(repeating: "😀", count: 8)
                #expect(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":"emoji","password":"\#(eight)"}"#)
                        .status == .created)
                let seven = String(repeating: "😀", count: 7)
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":"emoji2","password":"\#(seven)"}"#),
                    .unprocessableContent, "invalid_password")
                let long = String(repeating: "a", count: 129)
                expectError(
                    try await api.call(.post, "/api/v1/users", json: #"{"username":"long","password":"\#(long)"}"#),
                    .unprocessableContent, "invalid_password")
            }
        }
    }

    @Test func signInAnswers201WithTokenAndUser() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                _ = try await api.call(.post, "/api/v1/users", json: #"{"username":"alice","password":"password123"}"#)
                let response = try await api.call(
                    .post, "/api/v1/sessions", json: #"{"username":"alice","password":"password123"}"#)
                #expect(response.status == .created)
                let session = try response.jsonObject()
                #expect(Set(session.keys) == ["token", "user"])
                #expect(session["token"] is String)
                expectUserShape(session["user"] as? [String: Any])
            }
        }
    }

    @Test func everyFailedSignInIs401() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                _ = try await api.signUp("alice")
                for body in [
                    #"{"username":"alice","password":"wrongpassword"}"#,
                    #"{"username":"nobody","password":"password123"}"#,
                    #"{"username":"bad name!","password":"password123"}"#, #"{"username":"alice","password":"x"}"#,
                ] {
                    expectError(
                        try await api.call(.post, "/api/v1/sessions", json: body), .unauthorized, "unauthorized")
                }
                expectError(
                    try await api.call(.post, "/api/v1/sessions", json: #"{"username":"alice"}"#),
                    .unprocessableContent, "invalid_password")
                expectError(
                    try await api.call(.post, "/api/v1/sessions", json: #"{"username":"alice","password":false}"#),
                    .badRequest, "bad_request")
            }
        }
    }

    @Test func usersByIDAndByName() async throws {
        try await GatewayHarness.with { harness in
            try await harness.withRouterClient { client in
                let api = APIClient(client: client)
                let (id, _) = try await api.signUp("alice")
                let byID = try await api.call(.get, "/api/v1/users/\(id)")
                #expect(byID.status == .ok)
                expectUserShape(try byID.jsonObject())
                let byName = try await api.call(.get, "/api/v1/users?username=alice")
                #expect(try byName.jsonObject()["id"] as? String == id)
                expectError(try await api.call(.get, "/api/v1/users/999999"), .notFound, "not_found")
                expectError(try await api.call(.get, "/api/v1/users/abc"), .notFound, "not_found")
                expectError(try await api.call(.get, "/api/v1/users/-1"), .notFound, "not_found")
                expectError(try await api.call(.get, "/api/v1/users?username=nobody"), .notFound, "not_found")
                expectError(try await api.call(.get, "/api/v1/users?username=no%20body"), .notFound, "not_found")
                expectError(try await api.call(.get, "/api/v1/users"), .badRequest, "bad_request")
            }
        }
    }
}
