import Wire

/// What the web pages need beside the API's handlers: their templates and their forms' CSRF protection.
struct WebSite: Sendable {
    let templates: PageTemplates
    let csrf: CSRFProtection

    /// - Parameter serviceKeys: the cluster's Wire service key(s); the CSRF key is derived from them, so that every
    ///   Gateway of the cluster accepts the forms of every other.
    /// - Throws: when a template does not parse (a bug the unit tests catch).
    init(serviceKeys: WireServiceKeys) throws {
        templates = try PageTemplates()
        csrf = CSRFProtection(serviceKeys: serviceKeys)
    }

    /// Whether errors on `path` are answered as pages for people rather than as the API's JSON: everything but the
    /// API (`/api/...`) and the operational endpoints.
    static func servesPages(_ path: String) -> Bool {
        path != "/api" && !path.hasPrefix("/api/") && !["/healthz", "/readyz", "/metrics"].contains(path)
    }
}
