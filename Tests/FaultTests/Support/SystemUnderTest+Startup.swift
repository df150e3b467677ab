import Foundation
import NIOCore
import NIOPosix

extension SystemUnderTest {
    /// A loopback port that was free a moment ago, from 20000-26999: below the kernel's ephemeral range, so no
    /// outgoing connection takes it before the process that is told it binds it, and clear of the ports
    /// `scripts/infra` uses (Redis 17001+, 18001+ or 19001+ and their buses 10000 above, PostgreSQL 55431+).
    static func freePort() async throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20_000..<27_000)
            guard
                let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(
                    host: "127.0.0.1", port: port
                ).get()
            else { continue }
            try await channel.close()
            return port
        }
        throw FaultFailure("no free port in 20000-26999")
    }

    /// A self-signed P-256 certificate for `localhost` and 127.0.0.1, as `cert.pem` and `key.pem` in `directory`.
    static func makeCertificate(in directory: String) async throws {
        let openssl = try ServiceProcess.start(
            name: "openssl", executable: "/usr/bin/openssl",
            arguments: [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem",
            ],
            logPath: "\(directory)/openssl.log"
        )
        _ = try await poll(within: .seconds(30)) { !openssl.isRunning() }
        guard FileManager.default.fileExists(atPath: "\(directory)/cert.pem") else {
            throw FaultFailure("openssl could not make a certificate\n\(openssl.logTail())")
        }
    }
}
