import Foundation
import NIOPosix
import Wire

#if canImport(Glibc)
    import Glibc
#endif

/// The Redis nodes that `scripts/infra` runs, reached the way a fault test needs: by the PID each node wrote, to
/// pause, resume or kill it, and through `scripts/infra` to start it again.
enum RedisNodeProcesses {
    /// The PID in `$TWEETER_DATA_DIR/redis-<port>/redis.pid`.
    static func pid(ofPort port: Int) throws -> pid_t {
        guard let directory = ProcessInfo.processInfo.environment["TWEETER_DATA_DIR"] else {
            throw WireError(.internal, "TWEETER_DATA_DIR is not set: run the tests through scripts/test")
        }
        let text = try String(contentsOfFile: "\(directory)/redis-\(port)/redis.pid", encoding: .utf8)
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw WireError(.internal, "no PID in redis-\(port)/redis.pid")
        }
        return pid
    }

    /// Sends `signal` (SIGSTOP, SIGCONT, SIGKILL) to the node on `port`.
    static func signal(_ signal: Int32, port: Int) throws {
        guard kill(try pid(ofPort: port), signal) == 0 else {
            throw WireError(.internal, "kill(\(signal)) of the Redis node on \(port) failed: errno \(errno)")
        }
    }

    /// Runs `scripts/infra` with `arguments`, waiting for it on a thread of NIO's pool (posix_spawn and waitpid:
    /// Foundation's `Process` has hung here).
    static func infra(_ arguments: String...) async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let argv = [root.appendingPathComponent("scripts/infra").path] + arguments
        let status = try await NIOThreadPool.singleton.runIfActive { () -> Int32 in
            var pid: pid_t = 0
            let cArguments = argv.map { strdup($0) } + [nil]
            defer { cArguments.forEach { free($0) } }
            guard posix_spawn(&pid, argv[0], nil, nil, cArguments, environ) == 0 else { return -1 }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            return status
        }
        guard status == 0 else {
            throw WireError(.internal, "scripts/infra \(arguments.joined(separator: " ")) failed with status \(status)")
        }
    }
}
