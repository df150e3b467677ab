import Logging
import NIOCore
import NIOPosix
import Wire

/// The Wire side: a ``WireServer`` serving ``BenchmarkEcho`` and ``WireClient``s that call it.
struct WireRoundTrips {
    let server: WireServer
    /// A key of this run's own: the server and its clients authenticate as production does.
    private let keys: WireServiceKeys
    /// What the clients put beneath Wire (the server's counterpart is set at bind); `nil` for plain TCP.
    private let clientSecurity: WireTransportSecurity?
    private let serverTask: Task<Void, any Error>
    private let logger: Logger

    /// Binds a server on `host` with a free port and starts serving, beneath `security` when given (server side,
    /// client side). The echo runs in a task per request, as service methods do, or inline on the event loop
    /// (``WireRouter/registerInline(_:handler:)``) when `inline` is set.
    static func start(
        host: String, security: (server: WireTransportSecurity, client: WireTransportSecurity)? = nil, inline: Bool,
        eventLoopGroup: any EventLoopGroup, logger: Logger
    ) async throws -> WireRoundTrips {
        var router = WireRouter()
        if inline {
            router.registerInline(BenchmarkEcho.self) { request, _ in request }
        } else {
            router.register(BenchmarkEcho.self) { request, _ in request }
        }
        let keys = WireServiceKeys.generate()
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(
                host: host, port: 0, serverName: "wire-benchmark", keys: keys, transportSecurity: security?.server
            ),
            router: router,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
        let serverTask = Task { try await server.run() }
        return WireRoundTrips(
            server: server, keys: keys, clientSecurity: security?.client, serverTask: serverTask, logger: logger
        )
    }

    /// A client with `connections` connections to the server (``WireClientConfiguration/connectionsPerEndpoint``).
    func client(host: String, connections: Int, payloadSize: Int, eventLoopGroup: any EventLoopGroup) -> WireEchoClient
    {
        let configuration = WireClientConfiguration(
            endpoints: [WireEndpoint(host: host, port: server.port)],
            role: .operator,
            keys: keys,
            connectionsPerEndpoint: connections,
            defaultTimeout: .seconds(30),
            transportSecurity: clientSecurity
        )
        return WireEchoClient(
            client: WireClient(configuration: configuration, eventLoopGroup: eventLoopGroup, logger: logger),
            request: BenchmarkEcho.request(payloadSize: payloadSize)
        )
    }

    /// Drains the server and waits until it has stopped.
    func stop() async {
        server.shutdownGracefully()
        _ = await serverTask.result
    }
}

/// Calls ``BenchmarkEcho`` through a ``WireClient``; the client's pool picks the connection for every call.
struct WireEchoClient: RoundTripper {
    let client: WireClient
    let request: BenchmarkEcho.Request

    func roundTrip(worker: Int) async throws {
        _ = try await client.call(BenchmarkEcho.self, request, timeout: .seconds(30))
    }

    func close() {
        client.closeConnections()
    }
}
