import Logging
import NIOCore
import Wire

/// Echoes `value` after sleeping `delayMillis`: lets tests make responses finish out of order or late.
enum Echo: WireMethod {
    static let id = WireMethodID(rawValue: 60_000)
    static let name = "echo"
    static let callers = WireCallers(.gateway, .operator)

    /// Bounded by the frame alone: tests send frames of every size.
    static func checkBounds(_ request: Request) {}

    struct Request: WireMessage, Hashable {
        var value: UInt64
        var delayMillis: UInt32 = 0
        var text: String = ""

        init(value: UInt64, delayMillis: UInt32 = 0, text: String = "") {
            self.value = value
            self.delayMillis = delayMillis
            self.text = text
        }

        init(from reader: inout WireReader) throws(WireError) {
            value = try reader.read()
            delayMillis = try reader.read()
            text = try reader.read(String.self)
        }

        func encode(to writer: inout WireWriter) {
            writer.write(value)
            writer.write(delayMillis)
            writer.write(text)
        }
    }

    struct Response: WireMessage, Hashable {
        var value: UInt64
        var text: String
        var traceID: String

        init(from reader: inout WireReader) throws(WireError) {
            value = try reader.read()
            text = try reader.read(String.self)
            traceID = try reader.read(String.self)
        }

        init(value: UInt64, text: String, traceID: String) {
            self.value = value
            self.text = text
            self.traceID = traceID
        }

        func encode(to writer: inout WireWriter) {
            writer.write(value)
            writer.write(text)
            writer.write(traceID)
        }
    }
}

/// Always fails with `not_found`, to check that handler errors travel with their code and reason.
enum AlwaysNotFound: WireMethod {
    static let id = WireMethodID(rawValue: 60_001)
    static let name = "always_not_found"
    static let callers = WireCallers(.gateway)
    typealias Request = WireEmpty
    typealias Response = WireEmpty

    static func checkBounds(_ request: Request) {}
}

/// Starts a Wire server for tests on 127.0.0.1 and an ephemeral port, and stops it when the body ends.
func withTestServer<Result: Sendable>(
    configuration: WireServerConfiguration = WireServerConfiguration(serverName: "test", keys: testKeys),
    _ body: (WireServer) async throws -> Result
) async throws -> Result {
    var router = WireRouter()
    router.registerHealthCheck(service: "test")
    router.register(Echo.self) { request, context in
        if request.delayMillis > 0 {
            try await Task.sleep(for: .milliseconds(request.delayMillis))
        }
        return Echo.Response(
            value: request.value, text: request.text, traceID: "\(WireTraceID.current ?? context.traceID)")
    }
    router.register(AlwaysNotFound.self) { _, _ in
        throw WireError(.notFound, reason: "no_such_thing", "nothing here")
    }
    let server = try await WireServer.bind(
        configuration: configuration, router: router, logger: Logger(label: "test-server"))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        defer { group.cancelAll() }
        return try await body(server)
    }
}

/// The service key every test server and client of this target shares.
let testKeys = WireServiceKeys.generate()

func testClient(
    ports: [Int], role: WirePeerRole = .gateway, keys: WireServiceKeys = testKeys, connections: Int = 2,
    timeout: Duration = .seconds(5)
) -> WireClient {
    WireClient(
        configuration: WireClientConfiguration(
            endpoints: ports.map { WireEndpoint(host: "127.0.0.1", port: $0) },
            role: role,
            keys: keys,
            connectionsPerEndpoint: connections,
            defaultTimeout: timeout,
            connectTimeout: .seconds(5),
            reconnectBackoff: .milliseconds(20),
            maxReconnectBackoff: .milliseconds(200)
        ),
        logger: Logger(label: "test-client")
    )
}
