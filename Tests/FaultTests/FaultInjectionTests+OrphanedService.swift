import Foundation
import Testing
import WireTestSupport

#if canImport(Glibc)
    import Glibc
#endif

extension FaultInjectionTests {
    /// A service whose supervisor dies without stopping it stops itself (`TWEETER_STOP_WITH_PARENT`, `ParentWatch`):
    /// a TimelineService started in the background by a shell that names itself as the supervisor and exits at once
    /// is handed to another parent, notices, and shuts down. This is what keeps the services of a test runner that
    /// was killed (a CI timeout) from running on and holding their ports.
    @Test func aServiceWhoseSupervisorDiedStopsItself() async throws {
        let bin = try FaultEnvironment.value("TWEETER_BIN_DIR")
        let redis = try FaultEnvironment.value("TWEETER_REDIS_CLUSTER")
        let port = try await SystemUnderTest.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tweeter-orphan-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = "\(directory)/timeline-service.log"
        let pidFile = "\(directory)/timeline-service.pid"
        let script = "TWEETER_STOP_WITH_PARENT=$$ \"$0\" \"$@\" >'\(log)' 2>&1 </dev/null & echo $! >'\(pidFile)'"
        let shell = try ServiceProcess.start(
            name: "supervisor", executable: "/bin/sh",
            arguments: [
                "-c", script, "\(bin)/timeline-service", "--service-key-file", TestServiceKeys.file, "--listen",
                "127.0.0.1:\(port)", "--redis", redis, "--tweet-service", "127.0.0.1:1", "--workers", "0",
            ],
            logPath: "\(directory)/supervisor.log"
        )
        #expect(try await poll(within: .seconds(10), every: .milliseconds(50)) { !shell.isRunning() })
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))

        // Gone, or a zombie its new parent has not reaped yet: either way it no longer runs.
        let stopped = try await poll(within: .seconds(20)) {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let state = stat.split(separator: ")").last?.split(separator: " ").first
            else { return true }
            return state == "Z" || state == "X"
        }
        if !stopped {
            _ = kill(pid, SIGKILL)
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(stopped, "the orphaned service stopped\n\(output)")
        #expect(output.contains("the process that started this one is gone; stopping"), "\(output)")
    }
}
