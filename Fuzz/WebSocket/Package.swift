// swift-tools-version:6.2
// A package of its own so the fuzzer's flags and its main (libFuzzer's) stay out of the
// voltwatch package: `swift build` of the repository never sees this directory.
import PackageDescription

let package = Package(
    name: "voltwatch-fuzz-websocket",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "fuzz-websocket",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Sources",
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
