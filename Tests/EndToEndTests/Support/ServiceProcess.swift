import Foundation
import WireTestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One of the system's executables, started by the tests with its output in a log file and stopped by its PID.
///
/// `posix_spawn` rather than `Process`: the PID is all there is to keep, it is `Sendable`, and stopping waits with
/// `waitpid(WNOHANG)` between sleeps, so no thread blocks on a child.
struct ServiceProcess: Sendable {
    let name: String
    let pid: pid_t
    let logPath: String

    /// Starts `executable` with `arguments`, standard input from /dev/null and both outputs appended to `logPath`.
    static func start(name: String, executable: String, arguments: [String], logPath: String) throws -> ServiceProcess {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw EndToEndFailure("\(executable) is not an executable; build the products first (swift build)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv = ([executable] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        let environment = supervisedEnvironment()
        defer { environment.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv + [nil], environment + [nil])
        guard status == 0 else {
            throw EndToEndFailure("cannot start \(name): posix_spawn returned \(status)")
        }
        return ServiceProcess(name: name, pid: pid, logPath: logPath)
    }

    /// Whether the process has not exited yet (reaping it if it has).
    func isRunning() -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Waits for a command that ends by itself to exit; returns its exit status, or `nil` when it was still running
    /// after `limit` (it is then killed) or ended by a signal.
    func exitStatus(within limit: Duration) async -> Int32? {
        guard let status = await waitStatus(within: limit) else {
            await crash()
            return nil
        }
        // WIFEXITED and WEXITSTATUS, which Swift does not import (macros).
        return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }

    /// SIGTERM, then SIGKILL if it is still there after `grace`; returns once the process is gone.
    func stop(grace: Duration = .seconds(10)) async {
        await signal(SIGTERM, waitingUpTo: grace)
        if isRunning() {
            await signal(SIGKILL, waitingUpTo: .seconds(10))
        }
    }

    /// SIGKILL: the crash of an instance, not a shutdown.
    func crash() async {
        await signal(SIGKILL, waitingUpTo: .seconds(10))
    }

    private func signal(_ signal: Int32, waitingUpTo limit: Duration) async {
        guard isRunning() else { return }
        _ = kill(pid, signal)
        _ = await waitStatus(within: limit)
    }

    /// The wait status once the process has ended (reaping it), looked for every 20 ms for at most `limit`; `nil` when
    /// it still runs then, or was reaped before. (A child's end comes as a signal, not as something to await.)
    private func waitStatus(within limit: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + limit
        var status: Int32 = 0
        while true {
            switch waitpid(pid, &status, WNOHANG) {
            case pid: return status
            case 0 where ContinuousClock.now < deadline: try? await Task.sleep(for: .milliseconds(20))
            default: return nil
            }
        }
    }

    /// The last `lines` lines of the log, for failure messages.
    func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log)"
        return "----- \(name) (\(logPath)) -----\n"
            + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

struct EndToEndFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
