// swift-tools-version: 6.0
// A libFuzzer target for the Wire framing and payload codec. It is its own package so that the main package's
// `swift build` / `swift test` never build it. Build and run with `Fuzz/run.sh`; see `docs/fuzzing.md`.
import PackageDescription

let package = Package(
    name: "WireFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Tweeter", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "WireFuzzer",
            dependencies: [
                .product(name: "WireFuzzChecks", package: "Tweeter"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // For `@_extern(c)`, which declares libFuzzer's `LLVMFuzzerRunDriver` without a C header.
            swiftSettings: [.enableExperimentalFeature("Extern")]
        )
    ]
)
