import Hummingbird
import Wire

// Accounts: sign-up, sign-in and looking users up.
extension APIHandlers {
    /// `POST /api/v1/users` `{"username","password"}` -> 201 User; 409 `username_taken`; 422 `invalid_username`,
    /// `invalid_password`; 429 over the address's sign-up limit (``SignInGuard``).
    func createUser(_ request: APIRequest) async throws -> Response {
        let fields = try JSONObjectBody(request.body).requiredStrings("username", "password")
        let user = try await signUp(username: fields[0], password: fields[1], clientAddress: request.clientAddress)
        return .json(UserJSON(user), status: .created)
    }

    /// Creates an account: the sign-up of the API and of the web pages.
    ///
    /// - Throws: ``APIError`` 422 `invalid_username`/`invalid_password`, 429 over the address's sign-up limit; the
    ///   TweetService's ``WireError`` (`already_exists` when the name is taken).
    func signUp(username: String, password: String, clientAddress: String) async throws -> UserRecord {
        try FieldRules.checkUsername(username)
        try FieldRules.checkPassword(password)
        let ticket = try await admitted(signInGuard.beginSignUp(address: clientAddress))
        do {
            let user = try await upstream.call(
                .tweets, CreateUser.self, Credentials(username: username, password: password),
                timeout: upstream.passwordHashingTimeout
            )
            signInGuard.finish(ticket, .succeeded)
            return user
        } catch let error where error.code == .alreadyExists {
            signInGuard.finish(ticket, .failed)
            throw error
        } catch {
            signInGuard.finish(ticket, .notTried)
            throw error
        }
    }

    /// `POST /api/v1/sessions` `{"username","password"}` -> 201 `{"token","user"}`; wrong credentials are 401; 429
    /// over a failure limit for the username (``SignInGuard``); 503 when the TweetService's hashing queue is full.
    func signIn(_ request: APIRequest) async throws -> Response {
        let fields = try JSONObjectBody(request.body).requiredStrings("username", "password")
        let session = try await signIn(username: fields[0], password: fields[1], clientAddress: request.clientAddress)
        return .json(SessionJSON(token: session.token, user: session.user), status: .created)
    }

    /// Starts a session: the sign-in of the API and of the web pages.
    ///
    /// Credentials that break the sign-up rules cannot belong to anyone, so they are refused without asking (and
    /// cost no hashing, so they are not counted).
    ///
    /// - Throws: ``APIError`` 401 for wrong credentials, 429 over a failure limit; the TweetService's ``WireError``
    ///   otherwise (503 when its hashing queue is full).
    func signIn(username: String, password: String, clientAddress: String) async throws -> Session {
        let wrongCredentials = APIError.unauthorized("wrong username or password")
        guard FieldRules.isValidUsername(username), FieldRules.isValidPassword(password) else {
            throw wrongCredentials
        }
        let ticket = try await admitted(signInGuard.beginSignIn(username: username, address: clientAddress))
        do {
            let session = try await upstream.call(
                .tweets, Authenticate.self, Credentials(username: username, password: password),
                timeout: upstream.passwordHashingTimeout
            )
            signInGuard.finish(ticket, .succeeded)
            return session
        } catch let error where [.unauthenticated, .invalidArgument, .notFound].contains(error.code) {
            signInGuard.finish(ticket, .failed)
            throw wrongCredentials
        } catch {
            signInGuard.finish(ticket, .notTried)
            throw error
        }
    }

    /// The ticket of an admitted password request, or 429 with `Retry-After` (held for the refusal's delay first:
    /// the tarpit for a client that ignores `Retry-After`).
    private func admitted(_ decision: Result<SignInGuard.Ticket, Refusal>) async throws -> SignInGuard.Ticket {
        switch decision {
        case .success(let ticket):
            return ticket
        case .failure(let refusal):
            if refusal.answerAfter > .zero {
                try await Task.sleep(for: refusal.answerAfter)
            }
            throw APIError(
                .tooManyRequests, "rate_limited", "too many attempts; retry later",
                retryAfterSeconds: refusal.retryAfterSeconds)
        }
    }

    /// `DELETE /api/v1/sessions/current` -> 204: the caller's token is revoked. This Gateway refuses it at once;
    /// others within their token cache's lifetime (at most 5 s). The user's other sessions stay.
    func signOut(_ request: APIRequest) async throws -> Response {
        guard let token = request.token else { throw APIError.unauthorized() }
        try await revoke(token)
        return Response(status: .noContent)
    }

    /// Ends the session of `token`, here at once and on other Gateways when their token cache forgets it.
    func revoke(_ token: String) async throws {
        _ = try await upstream.call(.tweets, RevokeToken.self, Name(token))
        tokenCache.remove(token)
    }

    /// `GET /api/v1/users/{id}` -> User or 404.
    func user(_ request: APIRequest) async throws -> Response {
        .json(UserJSON(try await existingUser(request.pathID())))
    }

    /// `GET /api/v1/users?username=NAME` -> User or 404; without `username`, 400 `bad_request` (a malformed query,
    /// not a body field that fails validation).
    func findUser(_ request: APIRequest) async throws -> Response {
        guard let username = request.query["username"] else {
            throw APIError.badRequest("the username query parameter is required")
        }
        return .json(UserJSON(try await user(named: username)))
    }

    /// The user called `username`.
    ///
    /// - Throws: ``APIError`` 404 for a name no one can have; the TweetService's `not_found` for a free one.
    func user(named username: String) async throws -> UserRecord {
        guard FieldRules.isValidUsername(username) else {
            throw APIError.notFound("no user named \(username)")
        }
        return try await upstream.call(.tweets, GetUserByUsername.self, Name(username), idempotent: true)
    }
}
