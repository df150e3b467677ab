import Foundation
import Logging
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Stops the process, gracefully (SIGTERM to itself), once the process that started it is gone: for supervisors that
/// must not leave services running when they die without stopping them (the tests, when their runner is killed).
///
/// Asked for by the environment: `TWEETER_STOP_WITH_PARENT` holds the supervisor's PID, and the watch checks every
/// half second that it is still this process's parent (a process whose parent dies is handed to another, so its
/// parent PID changes). Linux's `PR_SET_PDEATHSIG` would not do: it fires when the *thread* that started the child
/// ends, and a test runner starts services from pool threads that come and go.
struct ParentWatch: Service {
    /// The environment variable that asks for the watch, with the supervisor's PID.
    static let environmentVariable = "TWEETER_STOP_WITH_PARENT"

    let parent: pid_t
    let interval: Duration
    let logger: Logger

    /// The watch the environment asks for, or `nil` when it asks for none.
    init?(environment: [String: String], interval: Duration = .milliseconds(500), logger: Logger) {
        guard let value = environment[Self.environmentVariable], let parent = pid_t(value), parent > 0 else {
            return nil
        }
        self.parent = parent
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while getppid() == parent, (try? await Task.sleep(for: interval)) != nil {}
        }
        guard getppid() != parent else { return }  // shutting down already
        logger.notice("the process that started this one is gone; stopping", metadata: ["parent": "\(parent)"])
        kill(getpid(), SIGTERM)
        try await gracefulShutdown()
    }
}
