/// The serving process's metrics in Prometheus text format, so that every service can be scraped through the same
/// protocol (the Gateway's `/metrics`, or any Wire client) without a second listener.
public enum ReadMetrics: WireMethod {
    public static let id = WireMethodID(rawValue: 2)
    public static let name = "read_metrics"
    public static let callers = WireCallers(.operator)

    public typealias Request = WireEmpty

    public static func checkBounds(_ request: Request) {}

    public struct Response: WireMessage, Hashable {
        /// Prometheus exposition text.
        public var text: String

        public init(text: String) {
            self.text = text
        }

        public init(from reader: inout WireReader) throws(WireError) {
            text = try reader.read(String.self, maxBytes: 900_000)
        }

        public func encode(to writer: inout WireWriter) {
            writer.write(text)
        }
    }
}

extension WireRouter {
    /// Serves ``ReadMetrics`` with the text `exposition` returns: the process's metrics backend, injected so that
    /// Wire depends on none (the executables bootstrap Prometheus, see `ServiceRuntime`).
    public mutating func registerMetrics(_ exposition: @escaping @Sendable () -> String) {
        register(ReadMetrics.self) { _, _ in ReadMetrics.Response(text: exposition()) }
    }
}
