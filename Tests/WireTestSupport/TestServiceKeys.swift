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
        FileManager.default.createFile(
            atPath: path, contents: Data((hex + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return path
    }()
}
