import Logging
import Synchronization
import TweetService
import Wire
import WireTestSupport

/// Collects what a relay delivers, like a TimelineService would.
final class EventSink: Sendable {
    private let received = Mutex<[TimelineEvent]>([])

    var events: [TimelineEvent] { received.withLock { $0 } }

    func accept(_ batch: TimelineEventBatch) {
        received.withLock { $0 += batch.events }
    }
}

/// Runs `body` with a stand-in TimelineService (a real Wire server that hands every `deliver_events` batch to the
/// sink) and an outbox relay on `database` that delivers to it over Wire in the `tweet-service` role.
///
/// - Parameter maxFrameLength: the largest frame the stand-in accepts and announces in its handshake.
func withStandInTimelineService<Result>(
    database: ShardedDatabase, maxFrameLength: Int = WireFrame.defaultMaxLength,
    _ body: (OutboxRelay, EventSink) async throws -> Result
) async throws -> Result {
    let sink = EventSink()
    var router = WireRouter()
    router.register(DeliverEvents.self) { batch, _ in
        sink.accept(batch)
        return WireEmpty()
    }
    let timeline = try await WireServer.bind(
        configuration: WireServerConfiguration(
            serverName: "timeline-stand-in", keys: TestServiceKeys.shared, maxFrameLength: maxFrameLength),
        router: router, logger: TestStore.logger
    )
    let client = WireClient(
        configuration: WireClientConfiguration(
            endpoints: [WireEndpoint(host: "127.0.0.1", port: timeline.port)], role: .tweetService,
            keys: TestServiceKeys.shared),
        logger: TestStore.logger
    )
    let relay = OutboxRelay(database: database, logger: TestStore.logger) { batch in
        _ = try await client.call(DeliverEvents.self, batch)
    }
    let running = Task { try await timeline.run() }
    defer {
        client.closeConnections()
        timeline.shutdownGracefully()
        running.cancel()
    }
    return try await body(relay, sink)
}
