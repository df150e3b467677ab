import Hummingbird
import Wire

// Signing up, in and out from the pages: the API's own sign-up, sign-in and revocation (``signUp(username:password:
// clientAddress:)``, ``signIn(username:password:clientAddress:)``, ``revoke(_:)``), with the session in a cookie.
extension APIHandlers {
    /// `GET /signin` and `GET /signup`; a signed-in user goes home instead.
    func accountPage(_ request: APIRequest, _ kind: AccountFormView.Kind) -> Response {
        guard request.caller == nil else { return redirect(to: "/") }
        return accountForm(request, AccountFormView(kind), kind: kind)
    }

    /// `POST /signup` `username`, `password`: the account, then a session; errors beside their fields.
    func submitSignUp(_ request: APIRequest) async throws -> Response {
        let form = try submittedForm(request)
        let (username, password) = (form["username"] ?? "", form["password"] ?? "")
        var view = AccountFormView(.signUp, username: username)
        do {
            _ = try await signUp(username: username, password: password, clientAddress: request.clientAddress)
        } catch let error as APIError where error.code == "invalid_username" {
            view.username.error = "Use 1 to 15 letters, digits or _."
            return accountForm(request, view, kind: .signUp, status: error.status)
        } catch let error as APIError where error.code == "invalid_password" {
            view.password.error = "Use 8 to 128 characters."
            return accountForm(request, view, kind: .signUp, status: error.status)
        } catch let error as WireError where error.code == .alreadyExists {
            view.username.error = "That username is taken. Try another."
            return accountForm(request, view, kind: .signUp, status: .conflict)
        }
        return try await startSession(request, username: username, password: password, kind: .signUp)
    }

    /// `POST /signin` `username`, `password`: a session in a cookie, then home.
    func submitSignIn(_ request: APIRequest) async throws -> Response {
        let form = try submittedForm(request)
        return try await startSession(
            request, username: form["username"] ?? "", password: form["password"] ?? "", kind: .signIn)
    }

    /// `POST /signout`: the session is revoked (like `DELETE /api/v1/sessions/current`) and its cookie cleared. A
    /// session that already ended (revoked elsewhere, expired) has nothing left to protect: its dead cookie is
    /// cleared without a CSRF check, since the form's token was bound to that session.
    func submitSignOut(_ request: APIRequest) async throws -> Response {
        if let token = request.token, request.caller != nil {
            _ = try submittedForm(request)
            try await revoke(token)
        }
        return redirect(to: "/", setting: [WebSession.clearSession()])
    }

    private func startSession(
        _ request: APIRequest, username: String, password: String, kind: AccountFormView.Kind
    ) async throws -> Response {
        do {
            let session = try await signIn(username: username, password: password, clientAddress: request.clientAddress)
            return redirect(to: "/", setting: [WebSession.setSession(session.token)])
        } catch let error as APIError where error.status == .unauthorized {
            var view = AccountFormView(kind, username: username)
            view.formError = "That username and password do not match an account."
            return accountForm(request, view, kind: kind, status: .unauthorized)
        }
    }

    private func accountForm(
        _ request: APIRequest, _ view: AccountFormView, kind: AccountFormView.Kind, status: HTTPResponse.Status = .ok
    ) -> Response {
        let content = AccountContent(kind, form: view)
        return render("account", request, title: content.heading, status: status, content)
    }
}
