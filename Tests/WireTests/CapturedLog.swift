import Logging
import Synchronization

/// A log handler that keeps each line's metadata as strings, for tests of what gets logged.
final class CapturedLog: LogHandler, Sendable {
    private let lines = Mutex<[[String: String]]>([])

    var entries: [[String: String]] { lines.withLock { $0 } }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).mapValues { "\($0)" }
        lines.withLock { $0.append(fields) }
    }
}
