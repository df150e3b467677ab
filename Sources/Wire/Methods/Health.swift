/// Answers while the server is up, with the name of the service. Every service serves it; readiness checks call it.
public enum HealthCheck: WireMethod {
    public static let id = WireMethodID(rawValue: 1)
    public static let name = "health_check"
    public static let callers = WireCallers.everyone

    public typealias Request = WireEmpty

    public static func checkBounds(_ request: Request) {}

    public struct Response: WireMessage, Hashable {
        /// The serving role, e.g. `tweet-service`.
        public var service: String

        public init(service: String) {
            self.service = service
        }

        public init(from reader: inout WireReader) throws(WireError) {
            service = try reader.read(String.self, maxBytes: 256)
        }

        public func encode(to writer: inout WireWriter) {
            writer.write(service)
        }
    }
}

extension WireRouter {
    /// Serves ``HealthCheck`` with `service` as the answer.
    public mutating func registerHealthCheck(service: String) {
        registerInline(HealthCheck.self) { _, _ in HealthCheck.Response(service: service) }
    }
}
