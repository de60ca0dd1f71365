// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "gans",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "GANKit", targets: ["GANKit"]),
        .executable(name: "gans", targets: ["gans"]),
        .executable(name: "gans-bench", targets: ["GANBench"]),
        .executable(name: "gans-fuzz", targets: ["GANFuzz"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The live view's HTTP and WebSocket server (docs/architecture.md says why this one).
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1")
    ],
    targets: [
        // System libraries. OpenBLAS is opened at run time (see docs/architecture.md),
        // so its module carries only C types and the apt provider, and links nothing.
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(name: "CEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"]), .brew(["libedit"])]),
        // Figures: anti-aliased lines and text in PNG and SVG.
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"]), .brew(["cairo"])]),

        // The hot elementwise loops, each compiled for several instruction
        // sets and picked at load time (see docs/architecture.md).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),

        .target(
            name: "TensorCore",
            dependencies: ["CKernels", .target(name: "COpenBLAS", condition: .when(platforms: [.linux]))],
            // Dynamic exclusivity checks cost ~16% of a small op's time (a
            // thread-local lookup per access of a class property); the
            // compile-time checks stay.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])],
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        .target(name: "GANKit", dependencies: ["TensorCore", "CZlib"], resources: [.copy("Resources")]),
        .target(
            name: "GANShell",
            dependencies: [
                "GANKit", "TensorCore", "CEdit", "CZlib", "CCairo", .product(name: "FlyingFox", package: "FlyingFox")
            ], resources: [.copy("Resources")]),
        .executableTarget(
            name: "gans",
            dependencies: [
                "GANShell", .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .executableTarget(name: "GANBench", dependencies: ["TensorCore", "GANKit", "GANShell"]),
        // libFuzzer targets when scripts/fuzz builds it with -sanitize=fuzzer; a replayer otherwise.
        .executableTarget(name: "GANFuzz", dependencies: ["GANShell", "TensorCore"]),

        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "GANKitTests", dependencies: ["GANKit", "TensorCore", "TestSupport"]),
        .testTarget(
            name: "GANShellTests", dependencies: ["GANShell", "GANKit", "TensorCore", "TestSupport", "gans"],
            exclude: ["Transcripts"])
    ],
    swiftLanguageModes: [.v5]
)
