import Foundation

/// A private CA made by the `openssl` CLI in a fresh temporary directory, which issues P-256 certificates for
/// servers and clients: what mutual TLS between our services runs on.
public struct TestCertificateAuthority: Sendable {
    /// A certificate the CA issued, and its key.
    public struct Issued: Sendable {
        public let certificatePath: String
        public let keyPath: String
    }

    public let directory: URL
    public var certificatePath: String { directory.appendingPathComponent("ca.pem").path }
    private var keyPath: String { directory.appendingPathComponent("ca.key").path }

    /// - Parameter parent: where its folder goes; the temporary directory unless said otherwise.
    public static func make(name: String = "tweeter-test-ca", in parent: URL? = nil) async throws
        -> TestCertificateAuthority
    {
        let directory = (parent ?? FileManager.default.temporaryDirectory).appendingPathComponent(
            "ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authority = TestCertificateAuthority(directory: directory)
        try await authority.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=\(name)", "-keyout", authority.keyPath, "-out", authority.certificatePath,
        ])
        return authority
    }

    /// Issues a certificate for `name` whose subjectAltName lists `addresses` (IP addresses) and `dnsNames`.
    public func issue(_ name: String, addresses: [String] = ["127.0.0.1"], dnsNames: [String] = ["localhost"])
        async throws -> Issued
    {
        let base = directory.appendingPathComponent(name).path
        let extensions = base + ".ext"
        let alternativeNames = (addresses.map { "IP:\($0)" } + dnsNames.map { "DNS:\($0)" }).joined(separator: ",")
        try Data("subjectAltName=\(alternativeNames)\n".utf8).write(to: URL(fileURLWithPath: extensions))
        try await openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=\(name)",
            "-keyout", base + ".key", "-out", base + ".csr",
        ])
        try await openssl([
            "x509", "-req", "-in", base + ".csr", "-CA", certificatePath, "-CAkey", keyPath, "-CAcreateserial",
            "-days", "1", "-extfile", extensions, "-out", base + ".pem",
        ])
        return Issued(certificatePath: base + ".pem", keyPath: base + ".key")
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await ExternalProcess.run("/usr/bin/openssl", arguments)
        guard result.status == 0 else {
            throw TestFailure("openssl \(arguments.first ?? "") failed: \(result.standardError)")
        }
    }
}
