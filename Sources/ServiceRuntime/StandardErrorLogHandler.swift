import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Log lines on standard error, in swift-log's `StreamLogHandler` format, with metadata formatted only when a line is
/// written.
///
/// `StreamLogHandler` formats its whole metadata each time one key is set. Servers set keys per request (the Gateway
/// its trace id, Hummingbird its request id, Wire the caller) and write a line for few of them, so here setting a key
/// only stores it.
struct StandardErrorLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    private let label: String

    init(label: String, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, provided in provided }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, extra in extra }
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        let pretty = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        Self.write("\(Self.timestamp()) \(event.level) \(label):\(pretty) [\(event.source)] \(event.message)\n")
    }

    /// The local time as `StreamLogHandler` writes it: `2026-12-03T10:04:20+0000`.
    private static func timestamp() -> String {
        var buffer = [Int8](repeating: 0, count: 255)
        var now = time(nil)
        var local = tm()
        localtime_r(&now, &local)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return buffer[..<count].withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0), as: UTF8.self) }
    }

    /// One `write(2)` per line, so that lines from several threads never interleave.
    private static func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
