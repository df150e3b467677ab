import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The environment for a service a test starts: the test runner's own, with `TWEETER_STOP_WITH_PARENT` naming the
/// runner, so that the service stops itself if the runner dies without stopping it (`ParentWatch` in
/// `ServiceRuntime`). As `KEY=value` C strings for `posix_spawn`, without the closing `nil`; the caller frees them.
public func supervisedEnvironment() -> [UnsafeMutablePointer<CChar>?] {
    ProcessInfo.processInfo.environment.merging(["TWEETER_STOP_WITH_PARENT": "\(getpid())"]) { $1 }
        .map { strdup("\($0)=\($1)") }
}
