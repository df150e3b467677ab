import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `scripts/infra`, driven by the tests that stop, start and kill the servers under them, with the environment the
/// tests run in (so the same `TWEETER_PG_PORTS`, `TWEETER_REDIS_PORTS` and `TWEETER_DATA_DIR` as the servers
/// `scripts/test` started). The script's output goes to the test's own output.
public enum ScriptsInfra {
    /// A run of `scripts/infra` that failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `scripts/infra` with `arguments` and waits for it to exit, on a thread of NIO's pool (posix_spawn and
    /// waitpid: Foundation's `Process` has hung here), never on a cooperative thread.
    /// - Throws: ``Failure`` when it cannot start or exits with a non-zero status.
    public static func run(_ arguments: String...) async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let argv = [root.appendingPathComponent("scripts/infra").path] + arguments
        let status = try await NIOThreadPool.singleton.runIfActive { () -> Int32 in
            var pid: pid_t = 0
            let cArguments = argv.map { strdup($0) } + [nil]
            defer { cArguments.forEach { free($0) } }
            // A thread of NIO's pool blocks signals, and a child inherits its mask: a Redis server that the script
            // starts would then never see the SIGTERM that stops it. So the script starts with none blocked.
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
            guard posix_spawn(&pid, argv[0], nil, &attributes, cArguments, environ) == 0 else { return -1 }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            return status
        }
        guard status == 0 else {
            throw Failure(description: "scripts/infra \(arguments.joined(separator: " ")) failed with status \(status)")
        }
    }
}
