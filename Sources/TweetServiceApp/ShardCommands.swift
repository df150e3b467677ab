import ArgumentParser
import Foundation
import Logging
import TweetService

/// What `move-shard` and `rebalance` share: the catalog server, the grace period, and a hidden crash point for the
/// tests that stop a move at each step.
struct MoveOptions: ParsableArguments {
    @Option(help: "libpq URL of the catalog server (the first of the TweetServices' --postgres).")
    var postgres: String = "postgresql://postgres@127.0.0.1:55431/tweeter"

    @Option(help: "Seconds the old copy of a moved shard is kept before it is dropped.")
    var graceSeconds: Int = 60

    @Option(help: "Milliseconds writes to the moving shard may wait while it is frozen.")
    var freezeBudgetMs: Int = 500

    @Option(help: .hidden)
    var crashAfter: String?

    /// `STEP:SECONDS`: sleep that long after the step, for tests that change the servers at that point.
    @Option(help: .hidden)
    var pauseAfter: String?

    func mover(logger: Logger, printing: Bool) -> ShardMover {
        let crashAfter = crashAfter
        let pause = pauseAfter?.split(separator: ":").map(String.init)
        let catalog = String(postgres.split(separator: ",").first ?? "")
        return ShardMover(
            catalogConninfo: catalog,
            configuration: ShardMover.Configuration(
                freezeBudget: .milliseconds(freezeBudgetMs), gracePeriod: .seconds(graceSeconds),
                afterStep: { shard, step in
                    if printing {
                        say("shard \(shard): \(step)")
                    }
                    if let pause, pause.count == 2, step == pause[0], let seconds = Double(pause[1]) {
                        Thread.sleep(forTimeInterval: seconds)
                    }
                    if step == crashAfter {
                        // A crash, as a test asks for: no cleanup, no unlock, connections dropped by the kernel.
                        _exit(86)
                    }
                }),
            logger: logger)
    }

    static func bootstrapLogging() -> Logger {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        return Logger(label: "tweet-service")
    }
}

struct MoveShard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move one logical shard to another PostgreSQL server while the TweetServices serve it.",
        discussion: """
            Copies the shard with logical replication, freezes its writes for at most the freeze budget, switches the \
            catalog and drops the old copy after the grace period. Run it again after any interruption: it completes \
            the move from the step it reached.
            """)

    @OptionGroup var options: MoveOptions

    @Option(help: "The logical shard to move.")
    var shard: Int

    @Option(help: "libpq URL of the server to move it to (added to the catalog if new).")
    var to: String

    func run() async throws {
        let mover = options.mover(logger: MoveOptions.bootstrapLogging(), printing: true)
        do {
            try await mover.move(shard: shard, to: to)
        } catch {
            try await mover.shutdown()
            throw error
        }
        try await mover.shutdown()
    }
}

struct Rebalance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Add a PostgreSQL server (optional) and move shards one at a time until every server holds about as many.",
        discussion: "Resumable: a run completes the moves an interrupted run left, then goes on with the plan.")

    @OptionGroup var options: MoveOptions

    @Option(help: "libpq URL of a new server to fill.")
    var addServer: String?

    func run() async throws {
        let mover = options.mover(logger: MoveOptions.bootstrapLogging(), printing: false)
        let started = ContinuousClock.now
        do {
            try await mover.rebalance(adding: addServer) { move, done, total in
                say(
                    "[\(done + 1)/\(total)] shard \(move.shard): server \(move.source) -> server \(move.target) "
                        + "(\(started.duration(to: .now)))")
            }
        } catch {
            try await mover.shutdown()
            throw error
        }
        try await mover.shutdown()
        say("rebalanced in \(started.duration(to: .now))")
    }
}

/// Prints a progress line at once, also into a pipe (unbuffered, unlike `print`).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
