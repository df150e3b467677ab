import Foundation
import Synchronization
import WireTestSupport

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One of the system's executables, started by the tests with its output in a log file, stopped or crashed by its PID,
/// and started again with the same executable and arguments (so on the same port) after a fault.
///
/// `posix_spawn` rather than `Process`: the PID is all there is to keep, and stopping waits with `waitpid(WNOHANG)`
/// between sleeps, so no thread blocks on a child. The PID of the current run sits behind a `Mutex`, which is what
/// makes the handle `Sendable` while a test restarts it.
final class ServiceProcess: Sendable {
    let name: String
    let executable: String
    let arguments: [String]
    let logPath: String
    private let current = Mutex<pid_t?>(nil)
    /// How the last run ended (`waitpid`'s status), once it was reaped.
    private let lastStatus = Mutex<Int32?>(nil)

    /// Prepares the process without starting it.
    init(name: String, executable: String, arguments: [String], logPath: String) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.logPath = logPath
    }

    /// Creates and starts the process.
    static func start(name: String, executable: String, arguments: [String], logPath: String) throws -> ServiceProcess {
        let process = ServiceProcess(name: name, executable: executable, arguments: arguments, logPath: logPath)
        try process.start()
        return process
    }

    /// Starts (or starts again) the executable, standard input from /dev/null and both outputs appended to the log.
    /// - Throws: ``FaultFailure`` when it is already running or cannot be spawned.
    func start() throws {
        guard !isRunning() else { throw FaultFailure("\(name) is already running") }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw FaultFailure("\(executable) is not an executable; build the products first (swift build)")
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
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv + [nil], environment + [nil])
        guard status == 0 else {
            throw FaultFailure("cannot start \(name): posix_spawn returned \(status)")
        }
        current.withLock { $0 = child }
    }

    /// The PID of the current run, if it was started; the caller that reaps it itself must not call ``isRunning()``.
    func pid() -> pid_t? {
        current.withLock { $0 }
    }

    /// Whether the current run has not exited yet (reaping it if it has).
    func isRunning() -> Bool {
        current.withLock { current in
            guard let child = current else { return false }
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == 0 { return true }
            current = nil
            lastStatus.withLock { $0 = status }
            return false
        }
    }

    /// Waits for a command to exit by itself and returns its exit code.
    /// - Throws: ``FaultFailure`` when it runs longer than `limit` (it is then killed) or ends by a signal.
    func exitCode(within limit: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + limit
        while isRunning() {
            guard ContinuousClock.now < deadline else {
                await crash()
                throw FaultFailure("\(name) ran longer than \(limit)\n\(logTail())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let status = lastStatus.withLock { $0 } ?? -1
        guard status & 0x7f == 0 else { throw FaultFailure("\(name) ended by signal \(status & 0x7f)\n\(logTail())") }
        return (status >> 8) & 0xff
    }

    /// SIGTERM, then SIGKILL if it is still there after `grace`; returns once the process is gone.
    func stop(grace: Duration = .seconds(10)) async {
        await signal(SIGTERM, waitingUpTo: grace)
        if isRunning() {
            await signal(SIGKILL, waitingUpTo: .seconds(10))
        }
    }

    /// SIGKILL: the crash of an instance, not a shutdown; returns once the process is gone.
    func crash() async {
        await signal(SIGKILL, waitingUpTo: .seconds(10))
    }

    /// SIGSTOP: the process stays, its clocks run on, and it does nothing until ``resume()``.
    func pause() {
        guard let child = current.withLock({ $0 }) else { return }
        _ = kill(child, SIGSTOP)
    }

    /// SIGCONT after ``pause()``.
    func resume() {
        guard let child = current.withLock({ $0 }) else { return }
        _ = kill(child, SIGCONT)
    }

    private func signal(_ signal: Int32, waitingUpTo limit: Duration) async {
        guard let child = current.withLock({ $0 }), isRunning() else { return }
        _ = kill(child, signal)
        let deadline = ContinuousClock.now + limit
        while isRunning(), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The last `lines` lines of the log, for failure messages.
    func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log)"
        return "----- \(name) (\(logPath)) -----\n"
            + text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// A fault test's own failure: what broke, said so that the report needs no debugger.
struct FaultFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
