// swift-tools-version: 6.0
import PackageDescription

/// One list of settings for every target: Swift 6 language mode is the package default; these add the rest.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// The services' executables allocate through jemalloc (Debian's `libjemalloc-dev`) instead of glibc's malloc: in a
/// profile of tweet creation the allocator took about 15 % of the services' CPU under glibc and 9 % under jemalloc
/// (docs/performance.md, "Runs of 5 Dec, 08:40–09:50"). The benchmarks that run the services' code in their own
/// process (`wire-benchmark`, `store-benchmark`) link it too, so that they measure what production runs.
let serviceLinkerSettings: [LinkerSetting] = [
    .linkedLibrary("jemalloc", .when(platforms: [.linux]))
]

let package = Package(
    name: "Tweeter",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "WireFuzzChecks", targets: ["WireFuzzChecks"]),
        .executable(name: "tweet-service", targets: ["TweetServiceApp"]),
        .executable(name: "timeline-service", targets: ["TimelineServiceApp"]),
        .executable(name: "gateway", targets: ["GatewayApp"]),
        .executable(name: "wire-benchmark", targets: ["WireBenchmark"]),
        .executable(name: "store-benchmark", targets: ["StoreBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // The C libraries, each reached through as few Swift modules as possible: libpq by TweetService, hiredis by
        // RedisCluster (the TimelineService's client), OpenSSL's libssl by TLS; libcrypto alone (HMAC, scrypt, the CSPRNG,
        // SHA-1) by Wire's peer authentication, TweetService's password hashing and RedisCluster's script digests.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "COpenSSL",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // TLS on SwiftNIO over OpenSSL's memory BIOs: the Gateway's HTTPS and, optionally, Wire between hosts.
        .target(
            name: "TLS",
            dependencies: ["COpenSSL", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // The protocol every service speaks: framing, payload codec, server, client pool. Depends on no service.
        .target(
            name: "Wire",
            dependencies: [
                "CLibCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The source of truth: users, tweets and the social graph on sharded PostgreSQL.
        .target(
            name: "TweetService",
            dependencies: [
                "Wire", "CLibPQ", "CLibCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Redis Cluster client on SwiftNIO: slot routing, MOVED/ASK, pipelines per node, replication waits.
        // Commands are written as RESP directly; hiredis's reader parses the replies. Used only by TimelineService
        // (and the store benchmark); it takes from Wire only the decimal writer it shares with the Gateway's JSON and
        // the hex form of its scripts' digests.
        .target(
            name: "RedisCluster",
            dependencies: [
                "Wire", "CHiredis", "CLibCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Materialized timelines, the tweet cache and the fan-out, on a Redis Cluster.
        .target(
            name: "TimelineService",
            dependencies: [
                "Wire", "RedisCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The public HTTP/JSON API behind TLS.
        .target(
            name: "Gateway",
            dependencies: [
                "Wire", "TLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The invariants the Wire fuzzer checks on every input, shared by the fuzzer (`Fuzz/`) and the corpus replay
        // in WireTests.
        .target(
            name: "WireFuzzChecks",
            dependencies: ["Wire", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // The start-up path the three executables share: flags, logging, metrics, signals, service group.
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "Wire", "TLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // One thin executable per service, so that each binary links only its own native library.
        .executableTarget(
            name: "TweetServiceApp",
            dependencies: [
                "Wire", "TweetService", "ServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: serviceLinkerSettings
        ),
        .executableTarget(
            name: "TimelineServiceApp",
            dependencies: [
                "Wire", "TimelineService", "ServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: serviceLinkerSettings
        ),
        .executableTarget(
            name: "GatewayApp",
            dependencies: [
                "Wire", "Gateway", "ServiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: serviceLinkerSettings
        ),
        // The closed loop every benchmark of ours drives its calls with.
        .target(name: "BenchmarkSupport", dependencies: ["Wire"], swiftSettings: swiftSettings),
        // Wire round trips beside a bare NIO echo measured in the same run.
        .executableTarget(
            name: "WireBenchmark",
            dependencies: [
                "Wire", "BenchmarkSupport", "ServiceRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: serviceLinkerSettings
        ),
        // The tweet store and the timelines beside pgbench and redis-benchmark, measured in the same run.
        .executableTarget(
            name: "StoreBenchmark",
            dependencies: [
                "Wire", "TweetService", "TimelineService", "RedisCluster", "BenchmarkSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: serviceLinkerSettings
        ),
        // A small HTTP/1.1 client over our TLSHandler, shared by the Gateway's tests and the end-to-end tests.
        .target(
            name: "HTTPTestSupport",
            dependencies: [
                "TLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/HTTPTestSupport",
            swiftSettings: swiftSettings
        ),
        // `scripts/infra` for the tests that stop, start and kill the servers under them.
        .target(
            name: "InfraTestSupport",
            dependencies: [.product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/InfraTestSupport",
            swiftSettings: swiftSettings
        ),
        // Wire clients and service keys for the tests of the services: a client that calls in whatever role each
        // method allows, and the test process's key (in memory and as a file for the executables it starts); the
        // catalog of every method and the request-bounds table of docs/wire.md.
        .target(
            name: "WireTestSupport",
            dependencies: ["Wire", .product(name: "Logging", package: "swift-log")],
            path: "Tests/WireTestSupport",
            swiftSettings: swiftSettings
        ),
        // Certificates made by the openssl CLI (self-signed, or a private CA with server and client certificates),
        // for the tests of TLS, of the Gateway and of Wire over TLS.
        .target(
            name: "TLSTestSupport",
            dependencies: [
                "TLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/TLSTestSupport",
            swiftSettings: swiftSettings
        ),
        // The TLS handler and context: OpenSSL in memory, EmbeddedChannel and loopback connections; no servers.
        .testTarget(
            name: "TLSTests",
            dependencies: [
                "TLSTestSupport", "TLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Wire beneath (mutual) TLS as the executables' flags set it up, against live servers on 127.0.0.1.
        .testTarget(
            name: "ServiceRuntimeTests",
            dependencies: [
                "ServiceRuntime", "Wire", "TLSTestSupport", "WireTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WireTests",
            dependencies: [
                "Wire", "WireFuzzChecks", "WireTestSupport",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Pure logic of the two services (ids, keys, the local tweet cache, fan-out ranges and wake-ups): no
        // PostgreSQL, no Redis, seconds to run.
        .testTarget(
            name: "TweetServiceUnitTests",
            dependencies: ["TweetService", "Wire", "WireTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TimelineServiceUnitTests",
            dependencies: [
                "TimelineService", "RedisCluster", "Wire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Redis client's pure logic (RESP, hash slots, topology, pipeline plans, the connection handler on an
        // EmbeddedChannel): no Redis, seconds to run.
        .testTarget(
            name: "RedisClusterTests",
            dependencies: [
                "RedisCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Integration: the services against the real PostgreSQL servers and Redis Cluster of `scripts/infra`.
        .testTarget(
            name: "TweetServiceTests",
            dependencies: [
                "InfraTestSupport", "WireTestSupport", "TweetService", "Wire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TimelineServiceTests",
            dependencies: [
                "InfraTestSupport", "WireTestSupport", "TimelineService", "RedisCluster", "Wire", "TweetService",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "TLSTestSupport", "TLS", "WireTestSupport", "Gateway", "Wire", "HTTPTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The whole system as a user meets it: the real executables (from TWEETER_BIN_DIR) against the PostgreSQL
        // shards and the Redis Cluster of `scripts/infra`, driven over real TLS.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ServiceRuntime", "TLSTestSupport", "TLS", "WireTestSupport", "Gateway", "Wire", "HTTPTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The system under faults: the real executables crashed, restarted, starved of PostgreSQL or of Redis
        // writes, and checked afterwards against PostgreSQL (read through TweetService's pool), Redis and the API.
        .testTarget(
            name: "FaultTests",
            dependencies: [
                "InfraTestSupport", "TLS", "WireTestSupport", "Gateway", "Wire", "HTTPTestSupport", "TweetService",
                "TimelineService", "RedisCluster",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
