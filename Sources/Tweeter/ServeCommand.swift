import ArgumentParser

import Logging
import ServiceLifecycle
import TimelineService
import TweetService
import Wire

/// `tweeter serve <role>`: binds a Wire server for the role and runs it until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve one role over Wire.")

    enum Role: String, ExpressibleByArgument, CaseIterable {
        case tweetService = "tweet-service"
        case timelineService = "timeline-service"
    }

    @Argument(help: "tweet-service or timeline-service")
    var role: Role

    @Option(help: "host:port to listen on (loopback by default)")
    var listen: String = "127.0.0.1:0"

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "tweeter.\(role.rawValue)")
        guard let endpoint = WireEndpoint(listen) ?? (listen.hasSuffix(":0") ? WireEndpoint(host: String(listen.dropLast(2)), port: 0) : nil) else {
            throw ValidationError("--listen must be host:port")
        }
        let router = switch role {
        case .tweetService: TweetServiceRouter.make()
        case .timelineService: TimelineServiceRouter.make()
        }
        let server = try await WireServer.bind(
            configuration: WireServerConfiguration(host: endpoint.host, port: endpoint.port, serverName: role.rawValue),
            router: router,
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
