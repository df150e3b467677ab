import Foundation
import ServiceRuntime
import Wire

/// A private CA and one certificate for the benchmark's server and client, made with the `openssl` CLI in a temporary
/// directory for one run: Wire beneath mutual TLS as `--wire-tls-mutual` sets it up in production.
struct ThrowawayCertificates {
    let directory: URL

    private var ca: String { directory.appendingPathComponent("ca.pem").path }
    private var certificate: String { directory.appendingPathComponent("peer.pem").path }
    private var key: String { directory.appendingPathComponent("peer.key").path }

    static func make(host: String) throws -> ThrowawayCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "wire-benchmark-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = ThrowawayCertificates(directory: directory)
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        try Data("subjectAltName=IP:\(host),DNS:localhost\n".utf8).write(to: URL(fileURLWithPath: path("peer.ext")))
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try run(
            ["req", "-x509"] + curve + [
                "-days", "1", "-subj", "/CN=wire-benchmark-ca", "-keyout", path("ca.key"), "-out", certificates.ca,
            ])
        try run(
            ["req"] + curve + ["-subj", "/CN=wire-benchmark", "-keyout", certificates.key, "-out", path("peer.csr")])
        try run([
            "x509", "-req", "-in", path("peer.csr"), "-CA", certificates.ca, "-CAkey", path("ca.key"),
            "-CAcreateserial",
            "-days", "1", "-extfile", path("peer.ext"), "-out", certificates.certificate,
        ])
        return certificates
    }

    /// Server and client sides of mutual TLS with these certificates, as the executables' flags build them.
    func mutualTLS() throws -> (server: WireTransportSecurity, client: WireTransportSecurity) {
        let options = try WireTLSOptions.parse([
            "--wire-tls-ca", ca, "--wire-tls-certificate", certificate, "--wire-tls-key", key, "--wire-tls-mutual",
        ])
        guard let server = try options.serverSecurity(), let client = try options.clientSecurity() else {
            throw BenchmarkSetupFailure("Wire TLS flags gave no TLS")
        }
        return (server, client)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `openssl` to completion (a second or so at start-up, before anything is measured).
    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchmarkSetupFailure("openssl \(arguments.first ?? "") exited with \(process.terminationStatus)")
        }
    }
}

struct BenchmarkSetupFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
