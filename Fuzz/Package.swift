// swift-tools-version:6.1
// libFuzzer target for the feed parser. Built only by Fuzz/run (it needs
// -sanitize=fuzzer), never by the main package's build or tests.
import PackageDescription

let package = Package(
    name: "feedspool-fuzz",
    dependencies: [.package(name: "feedspool", path: "..")],
    targets: [
        .executableTarget(
            name: "ParseFuzzer",
            dependencies: [.product(name: "Parse", package: "feedspool")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v6]
)
