import Foundation
import Wire

/// The service key of one test process: its in-process servers and clients share it, and the executables it starts
/// read it from ``file``.
public enum TestServiceKeys {
    public static let shared = WireServiceKeys.generate()

    /// A key file (mode 0600) holding ``shared``, written once per test process.
    public static let file: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tweeter-test-key-\(getpid())").path
        let hex = Hex.encode(shared.current)
        let written = FileManager.default.createFile(
            atPath: path, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600])
        precondition(written, "cannot write the test service key file \(path)")
        return path
    }()
}
