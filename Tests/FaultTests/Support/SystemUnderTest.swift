import Foundation
import Gateway
import HTTPTestSupport
import Logging
import NIOCore
import NIOPosix
import TLS
import Wire
import WireTestSupport

/// The whole system, as `scripts/up` runs it but on free loopback ports: one TweetService, two TimelineServices and a
/// Gateway over TLS with a fresh self-signed certificate, against the PostgreSQL servers and Redis Cluster that
/// `scripts/infra` started. Binaries come from `TWEETER_BIN_DIR`.
///
/// Unlike the end-to-end harness, every process can be crashed and started again on its own port, which is what the
/// fault tests do to it.
struct SystemUnderTest: Sendable {
    /// Where certificate and logs go; removed at the end unless a test failed.
    let directory: String
    let tweetService: ServiceProcess
    let timelineServices: [ServiceProcess]
    let gateway: ServiceProcess
    let gatewayPort: Int
    let tweetServicePort: Int
    let timelineServicePorts: [Int]
    /// A client context that trusts exactly the Gateway's certificate.
    let tls: TLSContext

    var processes: [ServiceProcess] { [tweetService] + timelineServices + [gateway] }

    /// The fan-out consumer name of TimelineService `index` (its listen address), which its workers' names in
    /// `XPENDING` (`<address>-<n>`) start with.
    func timelineConsumer(_ index: Int) -> String { "127.0.0.1:\(timelineServicePorts[index])" }

    /// Starts the system; when a process lost its port to someone else in the meantime, tries again with new ones.
    /// - Parameters:
    ///   - postgres: the TweetService's `--postgres`; `TWEETER_PG_URLS` unless given.
    ///   - tweetServiceArguments: more arguments for the TweetService.
    ///   - timelineServiceArguments: more arguments for each TimelineService, by index.
    static func start(
        postgres: String? = nil, tweetServiceArguments: [String] = [], timelineServiceArguments: [[String]] = []
    ) async throws -> SystemUnderTest {
        var attempt = 1
        while true {
            do {
                return try await startOnce(
                    postgres: postgres, tweetServiceArguments: tweetServiceArguments,
                    timelineServiceArguments: timelineServiceArguments)
            } catch let error as FaultFailure where attempt < 3 && error.description.contains("Address already in use")
            {
                attempt += 1
            }
        }
    }

    private static func startOnce(
        postgres: String?, tweetServiceArguments: [String], timelineServiceArguments: [[String]]
    ) async throws -> SystemUnderTest {
        let bin = try FaultEnvironment.value("TWEETER_BIN_DIR")
        let ownDatabase = postgres != nil
        let postgres = try postgres ?? FaultEnvironment.value("TWEETER_PG_URLS")
        let redis = try FaultEnvironment.value("TWEETER_REDIS_CLUSTER")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tweeter-faults-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await makeCertificate(in: directory)

        let tweetPort = try await freePort()
        let timelinePorts = [try await freePort(), try await freePort()]
        let gatewayPort = try await freePort()
        let tweetAddress = "127.0.0.1:\(tweetPort)"
        let timelineAddresses = timelinePorts.map { "127.0.0.1:\($0)" }.joined(separator: ",")
        // The replicas that scripts/infra started beside the primaries serve the lag-tolerant reads (of the test
        // servers' database: a system on a database of its own has none).
        let replicas = ownDatabase ? "" : ProcessInfo.processInfo.environment["TWEETER_PG_REPLICA_URLS"] ?? ""

        let tweetService = ServiceProcess(
            name: "tweet-service", executable: "\(bin)/tweet-service",
            arguments: [
                "serve", "--service-key-file", TestServiceKeys.file, "--listen", tweetAddress, "--postgres", postgres,
                "--timeline-service", timelineAddresses,
                "--scrypt-log-n", "10", "--postgres-replicas", replicas,
            ] + tweetServiceArguments,
            logPath: "\(directory)/tweet-service.log"
        )
        let timelineServices = timelinePorts.enumerated().map { index, port in
            ServiceProcess(
                name: "timeline-service-\(index + 1)", executable: "\(bin)/timeline-service",
                arguments: [
                    "--service-key-file", TestServiceKeys.file, "--listen", "127.0.0.1:\(port)", "--redis", redis,
                    "--tweet-service", tweetAddress,
                ] + (timelineServiceArguments.indices.contains(index) ? timelineServiceArguments[index] : []),
                logPath: "\(directory)/timeline-service-\(index + 1).log"
            )
        }
        let gateway = gatewayProcess(
            name: "gateway", port: gatewayPort, bin: bin, directory: directory, tweetPort: tweetPort,
            timelinePorts: timelinePorts)
        let system = SystemUnderTest(
            directory: directory, tweetService: tweetService, timelineServices: timelineServices, gateway: gateway,
            gatewayPort: gatewayPort, tweetServicePort: tweetPort, timelineServicePorts: timelinePorts,
            tls: try TLSContext(configuration: TLSConfiguration(role: .client(trustRootsPath: "\(directory)/cert.pem")))
        )
        do {
            for process in system.processes {
                try process.start()
            }
            try await system.waitUntilReady()
            try await system.waitUntilFanOutIsIdle()
            return system
        } catch {
            let logs = system.processes.map { $0.logTail() }.joined(separator: "\n")
            for process in system.processes {
                await process.stop()
            }
            throw FaultFailure("the system did not start: \(error)\n\(logs)")
        }
    }

    /// A Gateway of the system (not started) on `port`, with the certificate in `directory`.
    static func gatewayProcess(
        name: String, port: Int, bin: String, directory: String, tweetPort: Int, timelinePorts: [Int]
    ) -> ServiceProcess {
        ServiceProcess(
            name: name, executable: "\(bin)/gateway",
            arguments: [
                "--service-key-file", TestServiceKeys.file, "--listen", "127.0.0.1:\(port)", "--tls-certificate",
                "\(directory)/cert.pem", "--tls-key", "\(directory)/key.pem", "--tweet-service",
                "127.0.0.1:\(tweetPort)",
                "--timeline-service", timelinePorts.map { "127.0.0.1:\($0)" }.joined(separator: ","),
                "--rate-limit", "0", "--sign-ups-per-address-per-hour", "0",
            ],
            logPath: "\(directory)/\(name).log"
        )
    }

    /// Runs `body` with a second Gateway in front of the same services (as a deployment runs several) and an API
    /// connection to it; stops it by its PID afterwards, whatever happens.
    func withAnotherGateway<T>(_ body: (ServiceProcess, TweeterAPI) async throws -> T) async throws -> T {
        let port = try await Self.freePort()
        let other = Self.gatewayProcess(
            name: "gateway-2", port: port, bin: try FaultEnvironment.value("TWEETER_BIN_DIR"), directory: directory,
            tweetPort: tweetServicePort, timelinePorts: timelineServicePorts)
        try other.start()
        do {
            try await waitUntilReady(gateway: other, port: port)
            let result = try await HTTPSConnection.with(port: port, tls: tls) {
                try await body(other, TweeterAPI(connection: $0))
            }
            await other.stop()
            return result
        } catch {
            print(other.logTail())
            await other.stop()
            throw error
        }
    }

    /// Runs `body` with an API connection of its own, for requests that must race others.
    func withAPI<T>(_ body: (TweeterAPI) async throws -> T) async throws -> T {
        try await HTTPSConnection.with(port: gatewayPort, tls: tls) { try await body(TweeterAPI(connection: $0)) }
    }

    /// Starts a crashed or stopped process again with its own arguments and waits until it answers `health_check`
    /// (the Gateway: `/readyz`).
    func restart(_ process: ServiceProcess) async throws {
        try process.start()
        if process === gateway {
            try await waitUntilReady()
        } else if process === tweetService {
            try await waitUntilHealthy(process, port: tweetServicePort)
        } else if let index = timelineServices.firstIndex(where: { $0 === process }) {
            try await waitUntilHealthy(process, port: timelineServicePorts[index])
        }
    }

    /// Polls `/readyz` over TLS until it is 200 (every service answers), for up to a minute.
    func waitUntilReady() async throws {
        try await waitUntilReady(gateway: gateway, port: gatewayPort)
    }

    /// Polls `/readyz` of the Gateway on `port` over TLS until it is 200, for up to a minute.
    private func waitUntilReady(gateway: ServiceProcess, port: Int) async throws {
        var last = "no answer"
        let watched = processes.contains { $0 === gateway } ? processes : processes + [gateway]
        let ready = try await poll(within: .seconds(60)) {
            for process in watched where !process.isRunning() {
                throw FaultFailure("\(process.name) exited\n\(process.logTail())")
            }
            do {
                let reply = try await HTTPSConnection.with(port: port, tls: tls) {
                    try await $0.send(.GET, "/readyz")
                }
                last = "status \(reply.status)"
                return reply.status == 200
            } catch {
                last = "\(error)"
                return false
            }
        }
        guard ready else {
            throw FaultFailure(
                "/readyz never became 200 (last: \(last))\n" + processes.map { $0.logTail() }.joined(separator: "\n"))
        }
    }

    /// Polls the Wire `health_check` of one service until it answers, for up to a minute.
    func waitUntilHealthy(_ process: ServiceProcess, port: Int) async throws {
        let client = WireClient(
            configuration: WireClientConfiguration(
                endpoints: [WireEndpoint(host: "127.0.0.1", port: port)], role: .operator, keys: TestServiceKeys.shared,
                defaultTimeout: .seconds(2)),
            logger: Self.quietLogger
        )
        defer { client.closeConnections() }
        let healthy = try await poll(within: .seconds(60)) {
            guard process.isRunning() else { throw FaultFailure("\(process.name) exited\n\(process.logTail())") }
            return (try? await client.call(HealthCheck.self, WireEmpty())) != nil
        }
        guard healthy else { throw FaultFailure("\(process.name) never answered health_check\n\(process.logTail())") }
    }

    /// Waits until the fan-out queue has held no backlog (fewer than 10 jobs) for three polls in a row, for up to two
    /// minutes: the earlier test targets leave events in the outboxes that the first TweetService started here
    /// delivers all at once, and a fault injected into that backlog would test the backlog, not the fault.
    func waitUntilFanOutIsIdle() async throws {
        let redis = try RedisProbe.cluster()
        defer { redis.close() }
        var idlePolls = 0
        var last: Int64 = -1
        let idle = try await poll(within: .seconds(120)) {
            last = try await redis.fanOutBacklog().length
            idlePolls = last < 10 ? idlePolls + 1 : 0
            return idlePolls >= 3
        }
        guard idle else { throw FaultFailure("the fan-out queue never emptied (last: \(last) jobs)") }
    }

    /// A logger for the tests' own Wire clients, which would otherwise warn on every refused connect while a process
    /// starts.
    private static let quietLogger: Logger = {
        var logger = Logger(label: "fault-tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Stops every process by its PID; removes the directory when `keepLogs` is false.
    func stop(keepLogs: Bool) async {
        for process in processes.reversed() {
            await process.stop()
        }
        if keepLogs {
            print("fault-test logs kept in \(directory)")
        } else {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
