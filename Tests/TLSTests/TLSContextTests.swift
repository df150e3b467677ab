import Foundation
import TLSTestSupport
import Testing

@testable import TLS

@Suite("TLS context from files")
struct TLSContextTests {
    @Test func loadsAServerCertificateAndKey() async throws {
        try await withTestCertificate { certificate in
            let context = try TLSContext(configuration: certificate.serverConfiguration)
            #expect(context.configuration.role.isServer)
            #expect(OpenSSLErrorQueue.drain().isEmpty)
        }
    }

    @Test func missingFilesAreUnreadableCertificates() throws {
        let configuration = TLSConfiguration(
            role: .server(certificateChainPath: "/nonexistent/c.pem", privateKeyPath: "/nonexistent/k.pem"))
        let error = try #require(throws: TLSError.self) { try TLSContext(configuration: configuration) }
        #expect(error.code == .certificateUnreadable)
        #expect(!error.openSSLErrors.isEmpty)
        #expect(OpenSSLErrorQueue.drain().isEmpty, "the failure must leave the thread's error queue empty")
    }

    @Test func aKeyOfAnotherCertificateIsRefused() async throws {
        try await withTestCertificate { first in
            try await withTestCertificate { second in
                let mixed = TLSConfiguration(
                    role: .server(certificateChainPath: first.certificatePath, privateKeyPath: second.keyPath))
                let error = try #require(throws: TLSError.self) { try TLSContext(configuration: mixed) }
                #expect(error.code == .certificateUnreadable)
                #expect(error.openSSLErrors.contains { $0.contains("key values mismatch") }, "\(error)")
            }
        }
    }

    @Test func aPEMFileWithoutAKeyIsRefused() async throws {
        try await withTestCertificate { certificate in
            let configuration = TLSConfiguration(
                role: .server(
                    certificateChainPath: certificate.certificatePath, privateKeyPath: certificate.certificatePath))
            let error = try #require(throws: TLSError.self) { try TLSContext(configuration: configuration) }
            #expect(error.code == .certificateUnreadable)
        }
    }

    @Test func cipherListsOpenSSLDoesNotKnowAreInvalid() async throws {
        try await withTestCertificate { certificate in
            var configuration = certificate.serverConfiguration
            configuration.tls12CipherList = "NOT-A-CIPHER"
            let error = try #require(throws: TLSError.self) { try TLSContext(configuration: configuration) }
            #expect(error.code == .invalidConfiguration)
            #expect(!error.openSSLErrors.isEmpty)
        }
    }

    @Test func missingTrustRootsAreInvalid() throws {
        let configuration = TLSConfiguration(role: .client(trustRootsPath: "/nonexistent/roots.pem"))
        let error = try #require(throws: TLSError.self) { try TLSContext(configuration: configuration) }
        #expect(error.code == .invalidConfiguration)
    }
}
