import NIOCore
import TLSTestSupport
import Testing

@testable import TLS

@Suite("TLS configuration")
struct TLSConfigurationTests {
    private let server = TLSConfiguration(role: .server(certificateChainPath: "c.pem", privateKeyPath: "k.pem"))

    @Test func defaultsAreTheModernProfile() throws {
        #expect(server.minimumVersion == .v1_2)
        #expect(server.maximumVersion == .v1_3)
        #expect(server.applicationProtocols == ["http/1.1"])
        #expect(server.handshakeTimeout == .seconds(10))
        try server.validate()
    }

    @Test func tls12CiphersAreForwardSecretAEADOnly() {
        let ciphers = TLSConfiguration.modernTLS12CipherList.split(separator: ":")
        #expect(!ciphers.isEmpty)
        for cipher in ciphers {
            #expect(cipher.hasPrefix("ECDHE-"), "\(cipher)")
            #expect(cipher.contains("-GCM-") || cipher.contains("CHACHA20-POLY1305"), "\(cipher)")
        }
    }

    @Test func versionsAreOrderedAndNamedLikeOpenSSL() {
        #expect(TLSVersion.v1_2 < .v1_3)
        #expect("\(TLSVersion.v1_3)" == "TLSv1.3")
    }

    @Test func validationRefusesAnInvertedVersionRange() {
        var configuration = server
        configuration.minimumVersion = .v1_3
        configuration.maximumVersion = .v1_2
        #expect(throws: TLSError.self) { try configuration.validate() }
    }

    @Test func validationRefusesBadALPNNamesAndTimeouts() {
        var badALPN = server
        badALPN.applicationProtocols = [""]
        #expect(throws: TLSError.self) { try badALPN.validate() }

        var badTimeout = server
        badTimeout.handshakeTimeout = .zero
        #expect(throws: TLSError.self) { try badTimeout.validate() }
    }

    @Test func errorDescriptionCarriesCodeAndOpenSSLText() {
        let error = TLSError(
            .handshakeFailed, "handshake refused", openSSLErrors: ["error:0A00010B:SSL routines::wrong version number"])
        #expect("\(error.code)" == "handshake_failed")
        #expect(
            error.description
                == "handshake_failed: handshake refused [error:0A00010B:SSL routines::wrong version number]")
    }
}
