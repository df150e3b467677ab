import ArgumentParser
import Foundation
import Wire

/// The flag every service takes for the cluster's service key file (see ``WireServiceKeys``).
public struct ServiceKeyOptions: ParsableArguments {
    @Option(
        help: """
            File with the cluster's Wire service key (hex, one per line; a second line is accepted during a \
            rotation); mode 0600. Default: $TWEETER_SERVICE_KEY_FILE.
            """
    )
    public var serviceKeyFile: String?

    public init() {}

    /// The keys, from the flag or else the environment.
    public func keys() throws -> WireServiceKeys {
        do {
            return try WireServiceKeys.load(path: serviceKeyFile, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
