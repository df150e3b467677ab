import Hummingbird
import Testing

@testable import Gateway

@Suite("Route table")
struct RouteTableTests {
    private func table() -> RouteTable<String> {
        var table = RouteTable<String>()
        table.add(.post, "/api/v1/users", "create")
        table.add(.get, "/api/v1/users", "find")
        table.add(.get, "/api/v1/users/{id}", "user")
        table.add(.post, "/api/v1/users/{id}/follow", "follow")
        table.add(.delete, "/api/v1/users/{id}/follow", "unfollow")
        table.add(.get, "/api/v1/timelines/public", "public")
        return table
    }

    @Test func findsEndpointsWithCaptures() {
        guard
            case .found(let endpoint, let captures, let template) = table().resolve(
                .delete, path: "/api/v1/users/42/follow")
        else {
            Issue.record("not found")
            return
        }
        #expect(endpoint == "unfollow")
        #expect(captures == ["42"])
        #expect(template.description == "/api/v1/users/{id}/follow")
    }

    @Test func tellsWrongMethodsFromUnknownPaths() {
        guard case .methodNotAllowed(let allowed, let template) = table().resolve(.put, path: "/api/v1/users/7/follow")
        else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == [.post, .delete])
        #expect(template.description == "/api/v1/users/{id}/follow")
        for path in [
            "/api/v1/users/", "/api/v1/users//follow", "/api/v1/user", "", "api/v1/users", "/api/v1/timelines/public/x",
        ] {
            guard case .notFound = table().resolve(.get, path: path[...]) else {
                Issue.record("\(path) should be unknown")
                continue
            }
        }
    }

    @Test func capturesWhatFollowsALiteralPrefixInASegment() {
        var table = RouteTable<String>()
        table.add(.get, "/signin", "sign in")
        table.add(.get, "/@{username}", "profile")
        table.add(.get, "/@{username}/followers", "followers")
        guard case .found(let endpoint, let captures, _) = table.resolve(.get, path: "/@alice/followers") else {
            Issue.record("not found")
            return
        }
        #expect(endpoint == "followers")
        #expect(captures == ["alice"])
        for path in ["/@", "/alice", "/x@alice", "/@alice/"] {
            guard case .notFound = table.resolve(.get, path: path[...]) else {
                Issue.record("\(path) should be unknown")
                continue
            }
        }
    }

    @Test func listsEveryRouteWithItsMethods() {
        let routes = table().routes.map { ($0.template.description, $0.methods) }
        #expect(routes.count == 4)
        #expect(routes[0].0 == "/api/v1/users")
        #expect(routes[0].1 == [.post, .get])
    }

    @Test func theAPITableHasEveryDocumentedRoute() {
        let routes = APIHandlers.routeTable().routes
        #expect(routes.count == 15)
        #expect(routes.reduce(0) { $0 + $1.methods.count } == 18)
    }
}
