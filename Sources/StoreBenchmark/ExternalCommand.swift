import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A command-line tool (pgbench, redis-benchmark, psql) run to completion with its output captured in a file.
///
/// `posix_spawnp` and `waitpid` rather than Foundation's `Process`, which has hung in this repository's tests; the
/// blocking wait runs on a thread of NIO's pool, never on the cooperative pool.
struct ExternalCommand: Sendable {
    /// A name looked up in `PATH`, or a path.
    var executable: String
    var arguments: [String]

    struct Outcome: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        var status: Int32
        /// Standard output and standard error, interleaved.
        var output: String
    }

    init(_ executable: String, _ arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// The command line as a shell would take it, for the printed report.
    var commandLine: String {
        ([executable] + arguments).map { argument in
            argument.contains(where: { " {}'\"*$\\".contains($0) }) ? "'" + argument + "'" : argument
        }.joined(separator: " ")
    }

    /// Runs the tool with standard input from /dev/null, writing its output to `outputPath`, and waits for it.
    func run(outputPath: String) async throws -> Outcome {
        let argv = [executable] + arguments
        let status = try await NIOThreadPool.singleton.runIfActive { () throws -> Int32 in
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            // NIO's threads block most signals, and a child inherits the mask: without this, pgbench never sees the
            // SIGALRM that ends its -T run. Unblock everything and restore default handlers in the child.
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            var allSignals = sigset_t()
            sigfillset(&allSignals)
            posix_spawnattr_setsigmask(&attributes, &noSignals)
            posix_spawnattr_setsigdefault(&attributes, &allSignals)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            let cArguments = argv.map { strdup($0) }
            defer { cArguments.forEach { free($0) } }
            var pid: pid_t = 0
            let spawned = posix_spawnp(&pid, argv[0], &actions, &attributes, cArguments + [nil], environ)
            guard spawned == 0 else {
                throw BenchmarkFailure("cannot start \(argv[0]): \(String(cString: strerror(spawned)))")
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signal = status & 0x7f
            return signal == 0 ? (status >> 8) & 0xff : 128 + signal
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Outcome(status: status, output: output)
    }

    /// Runs the tool and returns its output; throws with the output's tail when it exits non-zero.
    func runChecked(outputPath: String) async throws -> String {
        let outcome = try await run(outputPath: outputPath)
        guard outcome.status == 0 else {
            let tail = outcome.output.split(separator: "\n").suffix(8).joined(separator: "\n")
            throw BenchmarkFailure("\(commandLine) exited with status \(outcome.status):\n\(tail)")
        }
        return outcome.output
    }
}

/// A private temporary directory for pgbench scripts, tool output and pgbench's latency logs; removed afterwards.
struct ScratchDirectory: Sendable {
    let path: String

    static func make() throws -> ScratchDirectory {
        // mkdtemp(3) replaces the trailing six X's of its template with a unique suffix.
        var template = Array((NSTemporaryDirectory() + "store-benchmark.XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw BenchmarkFailure("cannot create a temporary directory")
        }
        return ScratchDirectory(path: String(cString: made))
    }

    func file(_ name: String) -> String {
        path + "/" + name
    }

    func write(_ text: String, to name: String) throws -> String {
        let target = file(name)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    /// The files whose names start with `prefix`, e.g. pgbench's per-thread logs `<prefix>.<pid>[.<thread>]`.
    func files(startingWith prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
            .map(file)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
