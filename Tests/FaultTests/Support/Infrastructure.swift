import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The servers under the system, driven through `scripts/infra` with the environment the tests run in (so with the
/// same `TWEETER_PG_PORTS`, `TWEETER_REDIS_PORTS` and `TWEETER_DATA_DIR` as the servers `scripts/test` started).
enum Infrastructure {
    /// Stops PostgreSQL server `number` (1-based, as `scripts/infra` counts) in fast mode.
    static func stopPostgres(_ number: Int) async throws {
        try await run(["pg-stop", String(number)])
    }

    /// Starts PostgreSQL server `number` (1-based) and waits until it accepts connections.
    static func startPostgres(_ number: Int) async throws {
        try await run(["pg-start", String(number)])
    }

    /// Runs `scripts/infra` with `arguments` and waits for it to exit, for up to two minutes.
    /// - Throws: ``FaultFailure`` with the script's output when it fails or does not finish.
    static func run(_ arguments: [String]) async throws {
        let script = "\(FaultEnvironment.repositoryRoot)/scripts/infra"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("infra-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let process = ServiceProcess(name: "scripts/infra", executable: script, arguments: arguments, logPath: log)
        try process.start()
        guard let pid = process.pid() else { throw FaultFailure("scripts/infra did not start") }
        let deadline = ContinuousClock.now + .seconds(120)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard ContinuousClock.now < deadline else {
                await process.stop()
                throw FaultFailure(
                    "scripts/infra \(arguments.joined(separator: " ")) did not finish\n\(process.logTail())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        guard exited, code == 0 else {
            throw FaultFailure(
                "scripts/infra \(arguments.joined(separator: " ")) failed (status \(status))\n\(process.logTail())")
        }
    }
}
