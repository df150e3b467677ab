import Foundation
import TLS

/// A self-signed P-256 certificate for `localhost` and its key, made by the `openssl` CLI in a fresh temporary
/// directory that ``withTestCertificate(_:)`` removes afterwards.
public struct TestCertificate: Sendable {
    public let directory: URL
    public var certificatePath: String { directory.appendingPathComponent("cert.pem").path }
    public var keyPath: String { directory.appendingPathComponent("key.pem").path }

    public var serverConfiguration: TLSConfiguration {
        TLSConfiguration(role: .server(certificateChainPath: certificatePath, privateKeyPath: keyPath))
    }

    /// A client that trusts exactly this certificate.
    public var verifyingClientConfiguration: TLSConfiguration {
        TLSConfiguration(role: .client(trustRootsPath: certificatePath))
    }

    public static func make() async throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = TestCertificate(directory: directory)
        let result = try await ExternalProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-keyout", certificate.keyPath, "-out", certificate.certificatePath,
            ])
        guard result.status == 0 else {
            certificate.remove()
            throw TestFailure("openssl req failed: \(result.standardError)")
        }
        return certificate
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs `body` with a new certificate, removing its files afterwards.
public func withTestCertificate<T>(_ body: (TestCertificate) async throws -> T) async throws -> T {
    let certificate = try await TestCertificate.make()
    defer { certificate.remove() }
    return try await body(certificate)
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A command-line tool run to completion without blocking a thread while it runs.
public enum ExternalProcess {
    public struct Result: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// Runs `executable` with standard input closed; its output goes through files so a full pipe can never stall it.
    public static func run(_ executable: String, _ arguments: [String]) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("process-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputURL = scratch.appendingPathComponent("stdout")
        let errorURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        let error = try FileHandle(forWritingTo: errorURL)
        defer {
            try? output.close()
            try? error.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = error
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return Result(
            status: status,
            standardOutput: (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOf: errorURL, encoding: .utf8)) ?? ""
        )
    }
}

/// Runs `body`, failing with ``TestFailure`` if it takes longer than `timeout`.
public func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws
    -> T
{
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestFailure("timed out after \(timeout)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
