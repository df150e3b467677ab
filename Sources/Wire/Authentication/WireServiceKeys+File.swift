#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension WireServiceKeys {
    /// The environment variable that names the key file when no flag does.
    public static let fileEnvironmentVariable = "TWEETER_SERVICE_KEY_FILE"

    /// Reads the key file at `path`.
    ///
    /// - Throws: `invalid_argument/invalid_service_key` when the file cannot be read, is readable by group or others
    ///   (a key anyone on the host can read is no secret), or does not hold one or two valid keys.
    public static func load(path: String) throws(WireError) -> WireServiceKeys {
        func failure(_ message: String) -> WireError {
            WireError(.invalidArgument, reason: "invalid_service_key", "service key file \(path): \(message)")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("cannot open (errno \(errno))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("cannot stat (errno \(errno))") }
        guard status.st_mode & 0o077 == 0 else {
            throw failure("must not be readable by group or others (chmod 600)")
        }
        guard status.st_size <= 4096 else { throw failure("is larger than a key file can be") }
        var contents = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while filled < contents.count {
            let count = contents.withUnsafeMutableBytes {
                read(descriptor, $0.baseAddress! + filled, $0.count - filled)
            }
            guard count > 0 else { throw failure("cannot read (errno \(errno))") }
            filled += count
        }
        return try WireServiceKeys(fileContents: String(decoding: contents, as: UTF8.self))
    }

    /// Loads the file named by `path`, else by `TWEETER_SERVICE_KEY_FILE`.
    /// - Throws: `invalid_argument/missing_service_key` when neither names one.
    public static func load(path: String?, environment: [String: String]) throws(WireError) -> WireServiceKeys {
        guard let path = path ?? environment[fileEnvironmentVariable], !path.isEmpty else {
            throw WireError(
                .invalidArgument, reason: "missing_service_key",
                "no service key file: pass --service-key-file or set \(fileEnvironmentVariable)"
            )
        }
        return try load(path: path)
    }
}
