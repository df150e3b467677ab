import Wire

/// The web forms' protection against cross-site request forgery: every form that changes something carries a token
/// in a hidden field, and its POST is refused (403) unless the token is the one this browser's session (or, before
/// sign-in, its visitor cookie) yields.
///
/// The token is HMAC-SHA256, under a key derived from the cluster's Wire service key, of the session token (or the
/// visitor value). So it is stateless (nothing is stored; every Gateway of the cluster computes the same token),
/// another site cannot know it (it would need the `HttpOnly` session cookie and the key), it changes with each
/// session, and a leaked form token reveals nothing about the session token. Both `SameSite=Lax` cookies and this
/// check would each stop a forged POST on their own; the token is what old browsers and same-site attackers meet.
struct CSRFProtection: Sendable {
    /// The name of the hidden field.
    static let fieldName = "csrf"

    /// The derived keys; the first makes tokens, any of them checks one (two while the service key rotates).
    private let keys: [[UInt8]]

    /// - Parameter serviceKeys: the cluster's service key(s), from which the form key is derived (never used as is).
    init(serviceKeys: WireServiceKeys) {
        let purpose = Array("tweeter gateway web forms: csrf v1".utf8)
        keys = ([serviceKeys.current] + (serviceKeys.previous.map { [$0] } ?? [])).map {
            WireServiceKeys.hmac(key: $0, purpose)
        }
    }

    /// The token of the forms served to the holder of `binding` (their session token, or visitor value).
    func token(for binding: String) -> String {
        Hex.encode(WireServiceKeys.hmac(key: keys[0], Array(binding.utf8)))
    }

    /// Whether `submitted` is the token of `binding`; compared in constant time. A missing binding or token fails.
    func isValid(_ submitted: String?, for binding: String?) -> Bool {
        guard let submitted, let binding else { return false }
        guard let given = Hex.decode(submitted) else { return false }
        return keys.contains { key in
            WireServiceKeys.constantTimeEqual(given, WireServiceKeys.hmac(key: key, Array(binding.utf8)))
        }
    }
}
