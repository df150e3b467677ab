import Foundation
import Gateway
import HTTPTestSupport
import Logging
import NIOCore
import NIOPosix
import ServiceRuntime
import TLS
import TLSTestSupport
import Wire
import WireTestSupport

/// The whole system, as `scripts/up` runs it but on free loopback ports: one TweetService, two TimelineServices and a
/// Gateway over TLS with a fresh self-signed certificate, against the PostgreSQL shards and Redis Cluster that
/// `scripts/test` started. Binaries come from `TWEETER_BIN_DIR`. With `TWEETER_E2E_TARGET=cluster` the same processes
/// run on the hosts of `scripts/cluster` instead, against its PostgreSQL and Redis hosts (``Placement``).
struct SystemUnderTest: Sendable {
    /// Where certificate and logs go; removed at the end unless a test failed.
    let directory: String
    let tweetService: ServiceProcess
    let timelineServices: [ServiceProcess]
    let gateway: ServiceProcess
    /// The Gateway's address (and its extra Gateways'), and its port.
    let host: String
    let gatewayPort: Int
    /// A client context that trusts exactly the Gateway's certificate.
    let tls: TLSContext
    /// What started a process, to start more (a second Gateway) against the same services.
    let binDirectory: String
    let tweetServiceAddress: String
    let timelineServiceAddresses: String
    /// The `--wire-tls-*` flags every process got; empty for plain TCP between the services.
    let wireTLSArguments: [String]
    let placement: Placement

    /// Addresses of this process to be other clients from (the tests of limits per client address).
    var otherClientAddresses: [String] { placement.otherClientAddresses }

    var processes: [ServiceProcess] { [tweetService] + timelineServices + [gateway] }

    /// Reads a required environment variable; fails loudly, naming who sets it, when it is missing.
    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw EndToEndFailure(
                "\(name) is not set. Run the end-to-end tests through scripts/test, which builds the executables, sets TWEETER_BIN_DIR to `swift build --show-bin-path` and starts PostgreSQL and Redis (TWEETER_PG_URLS, TWEETER_REDIS_CLUSTER)."
            )
        }
        return value
    }

    /// A loopback port that was free a moment ago, from 20000-26999: below the kernel's ephemeral range, so no
    /// outgoing connection takes it before the process that is told it binds it, and clear of the ports
    /// `scripts/infra` uses (Redis 17001+ or 18001+ and its bus 27001+ or 28001+, PostgreSQL 55431+ or 56431+).
    /// On the cluster's hosts, where this process cannot bind, any port of that range (a port taken after all is
    /// retried by ``start(wireTLS:tweetServiceArguments:gatewayArguments:)``).
    static func freePort() async throws -> Int {
        if try Placement.fromEnvironment().isCluster { return Int.random(in: 20_000..<27_000) }
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<27_000)
            guard
                let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(
                    host: "127.0.0.1", port: port
                ).get()
            else { continue }
            try await channel.close()
            return port
        }
        throw EndToEndFailure("no free port in 20000-26999")
    }

    /// Starts the system; when a process lost its port to someone else in the meantime, tries again with new ones.
    ///
    /// - Parameters:
    ///   - wireTLS: every Wire connection beneath mutual TLS, with certificates from a private CA made for this run,
    ///     as services on different hosts would run.
    ///   - tweetServiceArguments: added to the TweetService's command line; cheap scrypt (`--scrypt-log-n 10`) unless
    ///     they give `--scrypt-log-n`.
    ///   - gatewayArguments: added to the Gateway's command line.
    static func start(wireTLS: Bool = false, tweetServiceArguments: [String] = [], gatewayArguments: [String] = [])
        async throws -> SystemUnderTest
    {
        var attempt = 1
        while true {
            do {
                return try await startOnce(
                    wireTLS: wireTLS, tweetServiceArguments: tweetServiceArguments, gatewayArguments: gatewayArguments)
            } catch let error as EndToEndFailure
                where attempt < 3 && error.description.contains("Address already in use")
            {
                attempt += 1
            }
        }
    }

    private static func startOnce(wireTLS: Bool, tweetServiceArguments: [String], gatewayArguments: [String])
        async throws -> SystemUnderTest
    {
        let placement = try Placement.fromEnvironment()
        let bin = try environment("TWEETER_BIN_DIR")
        let postgres = try environment("TWEETER_PG_URLS")
        let redis = try environment("TWEETER_REDIS_CLUSTER")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tweeter-e2e-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await makeCertificate(in: directory)
        let wireTLSArguments =
            wireTLS || placement.isCluster
            ? try await makeWireCertificates(in: directory, addresses: placement.serviceAddresses) : []

        let tweetPort = try await freePort()
        let timelinePorts = [try await freePort(), try await freePort()]
        let gatewayPort = try await freePort()
        let tweetAddress = "\(placement.tweetService.address):\(tweetPort)"
        let timelineAddresses = zip(placement.timelineServices, timelinePorts).map { "\($0.address):\($1)" }
            .joined(separator: ",")

        var started: [ServiceProcess] = []
        do {
            let (tweetExecutable, tweetArguments) = placement.command(
                "\(bin)/tweet-service",
                [
                    "serve", "--service-key-file", TestServiceKeys.file, "--listen", tweetAddress, "--postgres",
                    postgres,
                    "--timeline-service", timelineAddresses,
                    // The replicas scripts/infra started beside the primaries, when it did (not on the cluster's hosts).
                    "--postgres-replicas", ProcessInfo.processInfo.environment["TWEETER_PG_REPLICA_URLS"] ?? "",
                ] + (tweetServiceArguments.contains("--scrypt-log-n") ? [] : ["--scrypt-log-n", "10"])
                    + tweetServiceArguments + wireTLSArguments, on: placement.tweetService)
            let tweetService = try ServiceProcess.start(
                name: "tweet-service", executable: tweetExecutable, arguments: tweetArguments,
                logPath: "\(directory)/tweet-service.log"
            )
            started.append(tweetService)
            var timelineServices: [ServiceProcess] = []
            for (index, (host, port)) in zip(placement.timelineServices, timelinePorts).enumerated() {
                let (executable, arguments) = placement.command(
                    "\(bin)/timeline-service",
                    [
                        "--service-key-file", TestServiceKeys.file, "--listen", "\(host.address):\(port)", "--redis",
                        redis, "--tweet-service", tweetAddress,
                    ] + wireTLSArguments, on: host)
                let process = try ServiceProcess.start(
                    name: "timeline-service-\(index + 1)", executable: executable, arguments: arguments,
                    logPath: "\(directory)/timeline-service-\(index + 1).log"
                )
                started.append(process)
                timelineServices.append(process)
            }
            let gateway = try startGateway(
                bin: bin, directory: directory, placement: placement, port: gatewayPort, tweetService: tweetAddress,
                timelineServices: timelineAddresses,
                extraArguments: ["--rate-limit", "0", "--sign-ups-per-address-per-hour", "0"] + gatewayArguments
                    + wireTLSArguments,
                name: "gateway"
            )
            started.append(gateway)
            let system = SystemUnderTest(
                directory: directory, tweetService: tweetService, timelineServices: timelineServices, gateway: gateway,
                host: placement.gateway.address, gatewayPort: gatewayPort,
                tls: try TLSContext(
                    configuration: TLSConfiguration(role: .client(trustRootsPath: "\(directory)/cert.pem"))),
                binDirectory: bin, tweetServiceAddress: tweetAddress, timelineServiceAddresses: timelineAddresses,
                wireTLSArguments: wireTLSArguments, placement: placement
            )
            try await system.waitUntilReady(port: gatewayPort)
            try await system.waitUntilFanOutIsIdle(
                timelineService: WireEndpoint(host: placement.timelineServices[0].address, port: timelinePorts[0]))
            return system
        } catch {
            let logs = started.map { $0.logTail() }.joined(separator: "\n")
            for process in started {
                await process.stop()
            }
            throw EndToEndFailure("the system did not start: \(error)\n\(logs)")
        }
    }

    /// Starts another Gateway in front of the same services (for example with a tight rate limit).
    func startExtraGateway(name: String, port: Int, arguments: [String]) async throws -> ServiceProcess {
        let gateway = try Self.startGateway(
            bin: binDirectory, directory: directory, placement: placement, port: port,
            tweetService: tweetServiceAddress,
            timelineServices: timelineServiceAddresses, extraArguments: arguments + wireTLSArguments, name: name
        )
        do {
            try await waitUntilReady(port: port)
        } catch {
            await gateway.stop()
            throw error
        }
        return gateway
    }

    private static func startGateway(
        bin: String, directory: String, placement: Placement, port: Int, tweetService: String,
        timelineServices: String, extraArguments: [String], name: String
    ) throws -> ServiceProcess {
        let (executable, arguments) = placement.command(
            "\(bin)/gateway",
            [
                "--service-key-file", TestServiceKeys.file, "--listen", "\(placement.gateway.address):\(port)",
                "--tls-certificate", "\(directory)/cert.pem", "--tls-key", "\(directory)/key.pem",
                "--tweet-service", tweetService, "--timeline-service", timelineServices,
            ] + extraArguments, on: placement.gateway)
        return try ServiceProcess.start(
            name: name, executable: executable, arguments: arguments, logPath: "\(directory)/\(name).log")
    }

    /// Polls `/readyz` over TLS until it is 200 (every service answers), for up to a minute.
    func waitUntilReady(port: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var last = "no answer"
        while ContinuousClock.now < deadline {
            for process in processes where !process.isRunning() {
                throw EndToEndFailure("\(process.name) exited during startup\n\(process.logTail())")
            }
            do {
                let reply = try await HTTPSConnection.with(host: host, port: port, tls: tls) {
                    try await $0.send(.GET, "/readyz")
                }
                if reply.status == 200 { return }
                last = "status \(reply.status)"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw EndToEndFailure(
            "/readyz on port \(port) never became 200 (last: \(last))\n"
                + processes.map { $0.logTail() }.joined(separator: "\n"))
    }

    /// Waits until the fan-out queue has held no backlog (fewer than 10 jobs: the other suite may be tweeting) for a
    /// second and a half, for up to two minutes.
    ///
    /// The earlier test targets leave events in the shared database's outboxes that no relay delivered (they test the
    /// store without one), and the first TweetService started here delivers them all at once. A test that starts
    /// while thousands of those jobs are queued would measure their backlog, not "a tweet reaches its followers
    /// within seconds".
    func waitUntilFanOutIsIdle(timelineService: WireEndpoint) async throws {
        let client = try wireClient(timelineService)
        defer { client.closeConnections() }
        let deadline = ContinuousClock.now + .seconds(120)
        var idlePolls = 0
        var last = ReadQueueStats.Response(waiting: -1, pending: -1, lagMillis: 0)
        while idlePolls < 3 {
            guard ContinuousClock.now < deadline else {
                throw EndToEndFailure(
                    "the fan-out queue never emptied (last: \(last.waiting) waiting, \(last.pending) pending)")
            }
            last = try await client.call(ReadQueueStats.self, WireEmpty())
            idlePolls = last.waiting + last.pending < 10 ? idlePolls + 1 : 0
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// An operator's Wire client of one service, beneath the same TLS as the services when they use it.
    func wireClient(_ endpoint: WireEndpoint, security: WireTransportSecurity?? = nil) throws -> WireClient {
        let configured = try WireTLSOptions.parse(wireTLSArguments).clientSecurity()
        return WireClient(
            configuration: WireClientConfiguration(
                endpoints: [endpoint], role: .operator, keys: TestServiceKeys.shared,
                transportSecurity: security ?? configured
            ),
            logger: Logger(label: "end-to-end-tests")
        )
    }

    /// A private CA and one certificate for the services' `addresses` that every service presents; the flags that
    /// use them.
    private static func makeWireCertificates(in directory: String, addresses: [String]) async throws -> [String] {
        let authority = try await TestCertificateAuthority.make(in: URL(fileURLWithPath: directory))
        let services = try await authority.issue("services", addresses: addresses)
        return [
            "--wire-tls-ca", authority.certificatePath, "--wire-tls-certificate", services.certificatePath,
            "--wire-tls-key", services.keyPath, "--wire-tls-mutual",
        ]
    }

    /// Stops every process by its PID; removes the directory when `keepLogs` is false.
    func stop(keepLogs: Bool) async {
        for process in processes.reversed() {
            await process.stop()
        }
        if keepLogs {
            print("end-to-end logs kept in \(directory)")
        } else {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    private static func makeCertificate(in directory: String) async throws {
        let openssl = try ServiceProcess.start(
            name: "openssl", executable: "/usr/bin/openssl",
            arguments: [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", "\(directory)/key.pem", "-out",
                "\(directory)/cert.pem",
            ],
            logPath: "\(directory)/openssl.log"
        )
        let deadline = ContinuousClock.now + .seconds(30)
        while openssl.isRunning(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard FileManager.default.fileExists(atPath: "\(directory)/cert.pem") else {
            throw EndToEndFailure("openssl could not make a certificate\n\(openssl.logTail())")
        }
    }
}

/// Starts the system (with `SystemUnderTest.start`'s options), runs `body`, and stops every process whatever happens
/// (keeping the logs if `body` threw).
func withSystem<T: Sendable>(
    wireTLS: Bool = false, tweetServiceArguments: [String] = [], gatewayArguments: [String] = [],
    _ body: @Sendable (SystemUnderTest) async throws -> T
) async throws -> T {
    let system = try await SystemUnderTest.start(
        wireTLS: wireTLS, tweetServiceArguments: tweetServiceArguments, gatewayArguments: gatewayArguments)
    do {
        let result = try await body(system)
        await system.stop(keepLogs: false)
        return result
    } catch {
        await system.stop(keepLogs: true)
        throw error
    }
}
