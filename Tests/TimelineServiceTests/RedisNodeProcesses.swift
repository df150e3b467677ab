import Foundation
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
}
