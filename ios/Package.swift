// swift-tools-version:5.9
// The iOS side of Fieldsales: a Swift package over the uniffi bindings of the Rust core.
//
//   FieldsalesFFI       the Rust library and its C header, as an XCFramework that
//                       build-xcframework.sh builds into build/ (not committed)
//   FieldsalesBindings  the generated Swift bindings (scripts/generate-bindings.sh)
//   Fieldsales          the hand-written async/await layer the apps import
//
// The SwiftUI sample app in SampleApp/ depends on this package by path.

import PackageDescription

let package = Package(
    name: "Fieldsales",
    platforms: [
        .iOS(.v15),
        // The XCFramework carries a macOS slice so that `swift test` runs on a Mac.
        .macOS(.v12),
    ],
    products: [
        .library(name: "Fieldsales", targets: ["Fieldsales"]),
    ],
    targets: [
        .binaryTarget(
            name: "FieldsalesFFI",
            path: "build/FieldsalesFFI.xcframework"
        ),
        .target(
            name: "FieldsalesBindings",
            dependencies: ["FieldsalesFFI"],
            path: "Sources/FieldsalesBindings",
            // Packed into the XCFramework by build-xcframework.sh, not compiled here.
            exclude: ["FieldsalesFFI.h", "FieldsalesFFI.modulemap"]
        ),
        .target(
            name: "Fieldsales",
            dependencies: ["FieldsalesBindings"],
            path: "Sources/Fieldsales"
        ),
        .testTarget(
            name: "FieldsalesTests",
            dependencies: ["Fieldsales"],
            path: "Tests/FieldsalesTests"
        ),
    ]
)
