import NIOCore

/// Encryption beneath Wire's framing, supplied by the process: handlers that go first in the pipeline of every
/// connection a ``WireServer`` accepts or a ``WireClient`` opens. Wire links no TLS library itself; `ServiceRuntime`
/// builds one of these from the `TLS` module (`--wire-tls-*` flags, see `docs/wire.md`, "TLS").
public struct WireTransportSecurity: Sendable {
    /// For logs, e.g. `tls` or `mutual tls`.
    public let name: String
    let secure: @Sendable (_ pipeline: ChannelPipeline.SynchronousOperations, _ peerHost: String?) throws -> Void

    /// - Parameter secure: adds the handlers to a new connection's pipeline, on its event loop; `peerHost` is the
    ///   host the client connects to (to check the server's certificate against), `nil` on the server side.
    public init(
        name: String,
        secure:
            @escaping @Sendable (_ pipeline: ChannelPipeline.SynchronousOperations, _ peerHost: String?) throws -> Void
    ) {
        self.name = name
        self.secure = secure
    }
}
