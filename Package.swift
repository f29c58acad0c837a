// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "feedspool",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "feedspool", targets: ["feedspool"]),
        .library(name: "FeedspoolModel", targets: ["FeedspoolModel"]),
        .library(name: "Parse", targets: ["Parse"]),
        .library(name: "Content", targets: ["Content"]),
        .library(name: "Fetch", targets: ["Fetch"]),
        .library(name: "Dedup", targets: ["Dedup"]),
        .library(name: "Store", targets: ["Store"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C libraries, each wrapped once (NOTES-C-INTEROP.md).
        .systemLibrary(
            name: "CLibXML2", pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"]),
        // Not a library: SHA-256 on the x86 SHA extensions, which Swift cannot reach.
        .target(name: "CSHA256"),
        // Not a library either: byte classification on SSE2, which Swift's SIMD types do not compile to.
        .target(name: "CByteScan"),
        // glibc's malloc tunables and trim (malloc.h), which Swift's Glibc module leaves out.
        .target(name: "CMalloc"),
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),

        // Pipeline stages.
        .target(name: "FeedspoolModel", dependencies: ["CSHA256", "CMalloc"]),
        .target(name: "Config", dependencies: ["FeedspoolModel"]),
        .target(name: "Content", dependencies: ["CByteScan"]),
        .target(name: "Parse", dependencies: ["FeedspoolModel", "Content", "CByteScan", "CLibXML2"]),
        .target(name: "Fetch", dependencies: ["CCurl", "CCurlShim"]),
        .target(name: "Spool", dependencies: ["FeedspoolModel"]),
        .target(name: "Dedup", dependencies: ["FeedspoolModel", "Content"]),
        .target(
            name: "Store",
            dependencies: [
                "FeedspoolModel", "CLibPQ", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]),
        .target(
            name: "Daemon",
            dependencies: [
                "FeedspoolModel", "Config", "Fetch", "Parse", "Spool", "Store", "Dedup",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .executableTarget(
            name: "feedspool",
            dependencies: [
                "FeedspoolModel", "Config", "Parse", "Fetch", "Spool", "Store", "Daemon", "Dedup",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .testTarget(name: "ModelTests", dependencies: ["FeedspoolModel"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "ContentTests", dependencies: ["Content", "CByteScan"]),
        .testTarget(
            name: "ParseTests", dependencies: ["Parse"],
            exclude: ["Fixtures"]),
        .target(name: "TestSupport", dependencies: ["Fetch", "Store"], path: "Tests/TestSupport", exclude: ["server.py"]),
        .testTarget(name: "FetchTests", dependencies: ["Fetch", "TestSupport"]),
        .testTarget(name: "DedupTests", dependencies: ["Dedup", "FeedspoolModel", "Store", "TestSupport"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "FeedspoolModel"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "FeedspoolModel", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Config", "FeedspoolModel"]),
        .testTarget(name: "CLITests", dependencies: ["feedspool", "TestSupport", "Fetch"]),
    ],
    swiftLanguageModes: [.v6]
)
