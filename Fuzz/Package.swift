// swift-tools-version:6.1
// libFuzzer targets for the feed parser and the HTML sanitizer. Built only by Fuzz/run (it needs
// -sanitize=fuzzer), never by the main package's build or tests.
import PackageDescription

let package = Package(
    name: "feedspool-fuzz",
    dependencies: [.package(name: "feedspool", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "ParseFuzzer",
            dependencies: ["FuzzSupport", .product(name: "Parse", package: "feedspool")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(
            name: "SanitizeFuzzer",
            dependencies: ["FuzzSupport", .product(name: "Content", package: "feedspool")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ],
    swiftLanguageModes: [.v6]
)
