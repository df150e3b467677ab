import Logging
import NIOCore
import NIOPosix
import Testing

@testable import Wire

@Suite("Tasks that prefer an event loop run on it")
struct EventLoopTaskExecutorTests {
    /// Whether the calling thread is one of SwiftNIO's event loops (and not Swift's cooperative pool).
    private static var onAnEventLoop: Bool { MultiThreadedEventLoopGroup.currentEventLoop != nil }

    @Test func aTaskRunsOnItsLoopBeforeAndAfterEveryKindOfSuspension() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let elsewhere = group.next()
        #expect(loop !== elsewhere)
        let executor = EventLoopTaskExecutor(eventLoop: loop)
        let placesRun = await Task(executorPreference: executor) { () -> [Bool] in
            var places = [loop.inEventLoop]
            await Task.yield()  // suspended and enqueued again on its executor
            places.append(loop.inEventLoop)
            // Resumed from another thread (the other loop), as an answer from a connection on it would be.
            await withCheckedContinuation { continuation in
                elsewhere.execute { continuation.resume() }
            }
            places.append(loop.inEventLoop)
            // Child tasks inherit the preference.
            async let child = loop.inEventLoop
            places.append(await child)
            return places
        }.value
        #expect(placesRun == [true, true, true, true])
        try await group.shutdownGracefully()
    }

    @Test func withoutThePreferenceATaskRunsOnTheCooperativePool() async {
        // The control for the test above: the same question is answered differently off the loop.
        let onLoop = await Task { Self.onAnEventLoop }.value
        #expect(!onLoop)
    }

    @Test func aWireHandlerRunsOnItsConnectionsEventLoop() async throws {
        var router = WireRouter()
        router.register(Echo.self) { request, _ in
            let before = Self.onAnEventLoop
            await Task.yield()
            return Echo.Response(value: request.value, text: "\(before) \(Self.onAnEventLoop)", traceID: "")
        }
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(serverName: "test", keys: testKeys), router: router,
            logger: Logger(label: "test-server"))
        let run = Task { try await server.run() }
        let client = testClient(ports: [server.port])
        let answer = try await client.call(Echo.self, Echo.Request(value: 7))
        #expect(answer.text == "true true")
        client.closeConnections()
        run.cancel()
        _ = await run.result
    }
}
