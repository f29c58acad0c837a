// swift-tools-version:6.1
// Benchmarks, kept out of the main package so that CI's build never compiles them.
// Run: swift run -c release --package-path Benchmarks parse-bench
//      swift run -c release --package-path Benchmarks parse-hostile   (hostile shapes at 1 and 4 MiB: linear?)
//      Benchmarks/run-fetch-bench   (installs and starts nginx on loopback, compares with curl)
//      Benchmarks/run-dedup-bench   (1,000,000-item dedup index; datasketch in a venv beside it)
//      Benchmarks/run-store-bench   (job claims/s, SQLite and a throwaway PostgreSQL, 1-8 workers)
import PackageDescription

let package = Package(
    name: "feedspool-benchmarks",
    dependencies: [.package(name: "feedspool", path: "..")],
    targets: [
        // Its own binding of libxml2, for the ceiling pass (the main package's CLibXML2 is not a product).
        .systemLibrary(name: "CLibXML2Bench", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .executableTarget(
            name: "fetch-bench",
            dependencies: [.product(name: "Fetch", package: "feedspool"), .product(name: "FeedspoolModel", package: "feedspool")]),
        .executableTarget(
            name: "dedup-bench",
            dependencies: [.product(name: "Dedup", package: "feedspool"), .product(name: "Store", package: "feedspool")]),
        .executableTarget(
            name: "store-bench",
            dependencies: [.product(name: "Store", package: "feedspool")]),
        .executableTarget(
            name: "parse-hostile",
            dependencies: [.product(name: "Parse", package: "feedspool")]),
        .executableTarget(
            name: "parse-bench",
            dependencies: [
                "CLibXML2Bench", .product(name: "Parse", package: "feedspool"), .product(name: "FeedspoolModel", package: "feedspool"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
