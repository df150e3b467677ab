import ArgumentParser
import BenchmarkSupport
import Logging
import NIOCore
import NIOPosix

/// Measures Wire round trips beside a bare SwiftNIO echo of the same frame size, in one process on loopback, and
/// prints one Markdown table with both. It stops by itself: every cell runs for a fixed time or a fixed number of
/// requests, whichever ends first.
@main
struct WireBenchmarkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire-benchmark",
        abstract: "Wire round trips against a bare SwiftNIO TCP echo baseline, measured in the same run."
    )

    @Option(help: "Measured seconds per cell (one mode at one connections/concurrency pair).")
    var seconds: Double = 3

    @Option(help: "Unmeasured seconds before every cell, the same for both modes.")
    var warmupSeconds: Double = 1

    @Flag(help: "A short smoke run: 0.5 s per cell and 0.2 s of warm-up.")
    var quick = false

    @Option(parsing: .upToNextOption, help: "Requests in flight in total, over all connections (one client task each).")
    var concurrency: [Int] = [1, 16, 128, 1024]

    @Option(parsing: .upToNextOption, help: "Connections from the client to the server.")
    var connections: [Int] = [1, 4]

    @Option(help: "Most requests one cell sends, whatever the time.")
    var maxRequests: Int = 2_000_000

    @Option(help: "Bytes of payload in a Wire request; the echo frame has the same total size.")
    var payloadSize: Int = 16

    @Option(help: "Address both servers bind and the clients connect to.")
    var host: String = "127.0.0.1"

    @Flag(
        help: "Also measure Wire beneath mutual TLS (a throwaway private CA made with the openssl CLI) in every cell.")
    var tls = false

    @Flag(
        help: "Serve the Wire echo inline on the event loop (registerInline) instead of in a task per request.")
    var inlineHandler = false

    func validate() throws {
        guard seconds > 0, warmupSeconds >= 0 else {
            throw ValidationError("--seconds must be positive, --warmup-seconds not negative")
        }
        guard concurrency.allSatisfy({ $0 > 0 }), connections.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--concurrency and --connections take positive numbers")
        }
        guard maxRequests > 0, payloadSize >= 0 else { throw ValidationError("--max-requests must be positive") }
    }

    func run() async throws {
        let measured = Duration.milliseconds(Int64(((quick ? 0.5 : seconds) * 1000).rounded()))
        let warmup = Duration.milliseconds(Int64(((quick ? 0.2 : warmupSeconds) * 1000).rounded()))
        let eventLoopGroup = MultiThreadedEventLoopGroup.singleton
        var logger = Logger(label: "wire-benchmark")
        logger.logLevel = .warning
        let frameSize = BenchmarkEcho.frameSize(payloadSize: payloadSize)

        let echoServer = try await EchoBaseline.bindServer(host: host, eventLoopGroup: eventLoopGroup)
        let echoPort = echoServer.localAddress?.port ?? 0
        let wire = try await WireRoundTrips.start(
            host: host, inline: inlineHandler, eventLoopGroup: eventLoopGroup, logger: logger)
        let certificates = tls ? try ThrowawayCertificates.make(host: host) : nil
        defer { certificates?.remove() }
        var wireTLS: WireRoundTrips?
        if let certificates {
            wireTLS = try await WireRoundTrips.start(
                host: host, security: try certificates.mutualTLS(), inline: inlineHandler,
                eventLoopGroup: eventLoopGroup,
                logger: logger
            )
        }

        print(
            "# wire-benchmark: \(System.coreCount) cores, \(host), client and server in one process, "
                + "event loop group of \(System.coreCount) threads shared by both")
        print(
            "# frame: \(frameSize) bytes each way (Wire request with a \(payloadSize)-byte payload; echo sends and "
                + "reads back the same size)")
        print(
            "# per cell: \(warmup) warm-up, then \(measured) measured or \(maxRequests) requests; closed loop, "
                + "one client task per request in flight; echo runs first, then Wire"
                + (tls ? ", then Wire beneath mutual TLS (TLS 1.3, ECDSA P-256)" : ""))
        print(
            "# Wire server: benchmark_echo "
                + (inlineHandler ? "inline on the event loop (registerInline)" : "in a task per request (register)"))
        print("")
        print(LatencyReport.tableHeader)

        var reports: [LatencyReport] = []
        for connectionCount in connections {
            for inFlight in concurrency {
                let echoClient = try await EchoClient.connect(
                    host: host, port: echoPort, connections: connectionCount, frameSize: frameSize,
                    eventLoopGroup: eventLoopGroup
                )
                let echo = await measure(
                    echoClient, mode: .echo, connections: connectionCount, concurrency: inFlight, warmup: warmup,
                    measured: measured)
                await echoClient.close()
                print(echo.tableRow)

                let wireClient = wire.client(
                    host: host, connections: connectionCount, payloadSize: payloadSize, eventLoopGroup: eventLoopGroup)
                var wireReport = await measure(
                    wireClient, mode: .wire, connections: connectionCount, concurrency: inFlight, warmup: warmup,
                    measured: measured)
                wireClient.close()
                if echo.requestsPerSecond > 0 {
                    wireReport.ratioToEcho = wireReport.requestsPerSecond / echo.requestsPerSecond
                }
                print(wireReport.tableRow)
                reports.append(contentsOf: [echo, wireReport])

                if let wireTLS {
                    let tlsClient = wireTLS.client(
                        host: host, connections: connectionCount, payloadSize: payloadSize,
                        eventLoopGroup: eventLoopGroup)
                    var tlsReport = await measure(
                        tlsClient, mode: .wireTLS, connections: connectionCount, concurrency: inFlight, warmup: warmup,
                        measured: measured)
                    tlsClient.close()
                    if echo.requestsPerSecond > 0, wireReport.requestsPerSecond > 0 {
                        tlsReport.ratioToEcho = tlsReport.requestsPerSecond / echo.requestsPerSecond
                        tlsReport.ratioToPlainWire = tlsReport.requestsPerSecond / wireReport.requestsPerSecond
                    }
                    print(tlsReport.tableRow)
                    reports.append(tlsReport)
                }
            }
        }

        for report in reports where report.errors > 0 {
            print(
                "# \(report.mode) connections=\(report.connections) concurrency=\(report.concurrency): "
                    + "\(report.errors) failed, first: \(report.firstError ?? "?")")
        }
        await wire.stop()
        await wireTLS?.stop()
        try? await echoServer.close()
        if reports.contains(where: { $0.errors > 0 }) {
            throw ExitCode.failure
        }
    }

    /// Warms up, then measures, with the same closed loop for either mode.
    private func measure(
        _ client: some RoundTripper,
        mode: LatencyReport.Mode,
        connections: Int,
        concurrency: Int,
        warmup: Duration,
        measured: Duration
    ) async -> LatencyReport {
        if warmup > .zero {
            _ = await ClosedLoop.run(client, concurrency: concurrency, duration: warmup, maxRequests: maxRequests)
        }
        let result = await ClosedLoop.run(
            client, concurrency: concurrency, duration: measured, maxRequests: maxRequests)
        return LatencyReport(mode: mode, connections: connections, concurrency: concurrency, result: result)
    }
}
