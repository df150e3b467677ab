import Foundation
import Testing

/// The walls of `Package.swift` that keep the system simple, checked so that a dependency added in passing cannot
/// break one unnoticed: Wire depends on no service and no metrics backend, and each native library is reached
/// through the modules named for it only.
@Suite("Module walls")
struct ModuleWallTests {
    /// Every target's direct dependencies, read from `Package.swift`'s `name:`/`dependencies:` blocks.
    private static let dependencies: [String: Set<String>] = {
        let manifest = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Package.swift")
        let text = (try? String(contentsOf: manifest, encoding: .utf8)) ?? ""
        var result: [String: Set<String>] = [:]
        // A target's own `name:` is indented by 12 spaces; a product's (`.product(name: ...)`) is not on its own line.
        for block in text.components(separatedBy: "\n            name: \"").dropFirst() {
            guard let nameEnd = block.firstIndex(of: "\""),
                let list = block.components(separatedBy: "dependencies: [").dropFirst().first
            else { continue }
            let name = String(block[..<nameEnd])
            let body = list.components(separatedBy: "\n            ]").first ?? ""
            let quoted = body.components(separatedBy: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            result[name] = Set(
                quoted.filter { !$0.hasPrefix("swift-") && $0 != "hummingbird" && $0 != "hdrhistogram-swift" })
        }
        return result
    }()

    private static func users(of module: String) -> Set<String> {
        Set(dependencies.filter { $0.value.contains(module) }.keys)
    }

    @Test func wireDependsOnNoServiceAndNoMetricsBackend() throws {
        let wire = try #require(Self.dependencies["Wire"])
        #expect(
            wire.isDisjoint(with: ["TweetService", "TimelineService", "Gateway", "TLS", "Prometheus", "ServiceRuntime"])
        )
        #expect(wire.contains("NIOCore"), "the manifest was read")
    }

    @Test func eachNativeLibraryIsReachedOnlyWhereItBelongs() {
        #expect(Self.users(of: "CLibPQ") == ["TweetService"])
        #expect(Self.users(of: "CHiredis") == ["RedisCluster"])
        #expect(Self.users(of: "COpenSSL") == ["TLS"], "only TLS code links libssl")
        #expect(
            Self.users(of: "CLibCrypto") == ["Wire", "TweetService", "RedisCluster"], "hashing needs libcrypto alone")
    }

    @Test func theRedisClientDependsOnNoServiceAndNoOtherServiceUsesIt() throws {
        let client = try #require(Self.dependencies["RedisCluster"])
        #expect(client.isDisjoint(with: ["TweetService", "TimelineService", "Gateway", "TLS", "ServiceRuntime"]))
        let users = Self.users(of: "RedisCluster")
        #expect(users.contains("TimelineService"))
        #expect(users.isDisjoint(with: ["Wire", "TweetService", "Gateway", "TLS", "ServiceRuntime", "GatewayApp"]))
    }

    @Test func servicesReachEachOtherOnlyThroughWire() {
        for service in ["TweetService", "TimelineService", "Gateway"] {
            let others = Set(["TweetService", "TimelineService", "Gateway"]).subtracting([service])
            #expect(Self.dependencies[service]?.isDisjoint(with: others) == true, "\(service)")
        }
    }
}
