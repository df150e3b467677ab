import Foundation

/// The environment the fault tests run in, which `scripts/test` (or `scripts/infra env`) sets.
enum FaultEnvironment {
    /// Reads a required environment variable; fails loudly, naming who sets it, when it is missing.
    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw FaultFailure(
                "\(name) is not set. Run the fault tests through scripts/test, which builds the executables, sets "
                    + "TWEETER_BIN_DIR to `swift build --show-bin-path` and starts PostgreSQL and Redis "
                    + "(TWEETER_PG_URLS, TWEETER_REDIS_CLUSTER)."
            )
        }
        return value
    }

    /// The repository's root, where `scripts/infra` lives (this file is `Tests/FaultTests/Support/…`).
    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }
}
