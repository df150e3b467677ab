import Logging
import Wire

/// A Wire client for tests that call a service the way several of its real callers do: each call goes over a
/// connection proven in a role that the method allows (``WireMethod/callers``), so a test can create a user as the
/// Gateway would and then page its followers as a TimelineService would, without spelling out the roles.
public final class AnyRoleClient: Sendable {
    private let clients: [WirePeerRole: WireClient]

    public init(
        endpoints: [WireEndpoint], keys: WireServiceKeys = TestServiceKeys.shared,
        defaultTimeout: Duration = .seconds(30),
        logger: Logger
    ) {
        var clients: [WirePeerRole: WireClient] = [:]
        for role in WirePeerRole.allCases {
            clients[role] = WireClient(
                configuration: WireClientConfiguration(
                    endpoints: endpoints, role: role, keys: keys, defaultTimeout: defaultTimeout),
                logger: logger
            )
        }
        self.clients = clients
    }

    /// Calls `method` in the first of gateway, timeline-service, tweet-service and operator that may call it.
    public func call<Method: WireMethod>(
        _ method: Method.Type, _ request: Method.Request, timeout: Duration? = nil
    ) async throws(WireError) -> Method.Response {
        let roles: [WirePeerRole] = [.gateway, .timelineService, .tweetService, .operator]
        guard let role = roles.first(where: { Method.callers.allows($0) }) else {
            throw WireError(.permissionDenied, reason: "role_not_allowed", "no role may call \(Method.name)")
        }
        return try await client(role).call(method, request, timeout: timeout)
    }

    /// The client that calls in `role`, for code under test that takes a `WireClient`.
    public func client(_ role: WirePeerRole) -> WireClient {
        clients[role]!  // every role has one (see init)
    }

    public func closeConnections() {
        for client in clients.values {
            client.closeConnections()
        }
    }
}
