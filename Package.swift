// swift-tools-version:6.2
import PackageDescription

/// One set of settings for every target, as hummingbird and swift-log do: Swift 6 language mode
/// (strict concurrency) plus the upcoming features that keep imports and existentials honest.
let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "voltwatch",
    products: [
        .executable(name: "voltwatch", targets: ["voltwatch"]),
        .library(name: "VoltCore", targets: ["VoltCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Webhooks (http and https); already in the graph through hummingbird, and its TLS
        // (swift-nio-ssl) through hummingbird-websocket's client.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Pure logic: framing, parsing, scoring, configuration, result encoding. No I/O.
        .target(
            name: "VoltCore",
            swiftSettings: swiftSettings
        ),
        // libudev, for discovery and hot-plug: nothing else.
        .systemLibrary(
            name: "CUdev",
            pkgConfig: "libudev",
            providers: [.apt(["libudev-dev"])]
        ),
        // The Linux calls Swift cannot make directly (variadic ioctl and prctl, termios speed
        // macros), with every non-POSIX constant guarded; glibc and musl alike.
        .target(name: "CLinuxShims"),
        // The serial edge: udev discovery and hot-plug, termios ports, reader, fake device, recorder.
        .target(
            name: "VoltSerial",
            dependencies: [
                "VoltCore",
                "CUdev",
                "CLinuxShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // libmosquitto, the MQTT client the publisher drives: nothing else.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        // Publishing: MQTT (topics, Home Assistant discovery), alert webhooks, and the on-disk
        // outbox that keeps episodes while the broker or the network is away.
        .target(
            name: "VoltPublish",
            dependencies: [
                "VoltCore",
                "CMosquitto",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // History: the SQLite store (GRDB, WAL) and the recorder that writes it once a second.
        .target(
            name: "VoltHistory",
            dependencies: [
                "VoltCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The network edge: HTTP API (hummingbird), /ws and /socket.io/ (NIO WebSocket handlers, no
        // task per client), hub with per-client bounded queues, metrics.
        .target(
            name: "VoltServer",
            dependencies: [
                "VoltCore",
                "VoltHistory",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            // The dashboard page, embedded in the binary: nothing to install beside it.
            resources: [
                .embedInCode("Dashboard/Assets/index.html"),
                .embedInCode("Dashboard/Assets/dashboard.css"),
                .embedInCode("Dashboard/Assets/dashboard.js"),
                .embedInCode("HTTP/openapi.json"),
            ],
            swiftSettings: swiftSettings
        ),
        // Composition root: builds the ServiceGroup (serial + server) from the configuration.
        .target(
            name: "VoltAgent",
            dependencies: [
                "VoltCore",
                "VoltSerial",
                "VoltServer",
                "VoltHistory",
                "VoltPublish",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Offline tools that need only the core (replay, check-config) live here too.
        .executableTarget(
            name: "voltwatch",
            dependencies: [
                "VoltCore",
                "VoltSerial",
                "VoltAgent",
                "VoltHistory",
                "VoltPublish",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // `voltwatch calibrate` reads the running agent's /ws.
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        // `swift run -c release voltwatch-bench`: core throughput and replay throughput.
        .executableTarget(
            name: "voltwatch-bench",
            dependencies: ["VoltCore"],
            path: "Benchmarks/voltwatch-bench",
            swiftSettings: swiftSettings
        ),
        // `voltwatch-history-bench` (scripts/history_bench.py runs it): the history store's CPU
        // and bytes written per simulated hour.
        .executableTarget(
            name: "voltwatch-history-bench",
            dependencies: ["VoltHistory", "VoltCore", .product(name: "Logging", package: "swift-log"), .product(name: "CoreMetrics", package: "swift-metrics")],
            path: "Benchmarks/voltwatch-history-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VoltCoreTests",
            dependencies: ["VoltCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VoltHistoryTests",
            dependencies: ["VoltHistory", "VoltCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VoltPublishTests",
            dependencies: ["VoltPublish", "VoltCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VoltSerialTests",
            dependencies: ["VoltSerial", "VoltCore", "CLinuxShims"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VoltServerTests",
            dependencies: [
                "VoltServer",
                "VoltCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
