// swift-tools-version:6.0
import PackageDescription

// The module graph mirrors the compiler pipeline; data flows one way:
// DSL -> IR -> Passes (autodiff, memory plan) -> Codegen -> Toolchain -> Runtime;
// Data feeds the runtime and Eval scores what it produces (kNN, linear probe, plots).
// `SimSiamC` is the driver that strings the stages together; `SimSiamCLI`
// holds one file per subcommand; `simsiamc` is the thin executable.
let package = Package(
    name: "simsiamc",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SimSiamC", targets: ["SimSiamC"]),
        .executable(name: "simsiamc", targets: ["simsiamc"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .target(name: "SimSiamABI"),
        .target(name: "SimSiamIR"),
        .target(name: "SimSiamDSL", dependencies: ["SimSiamIR"]),
        .target(name: "SimSiamPasses", dependencies: ["SimSiamIR"]),
        // CRuntime/ holds the C the tuned kernels share, pasted into every generated file.
        .target(name: "SimSiamCodegen", dependencies: ["SimSiamABI", "SimSiamIR", "SimSiamPasses"], resources: [.copy("CRuntime")]),
        .target(name: "SimSiamToolchain"),
        // MPI/ holds the MPI shim, compiled with mpicc at run time under an MPI launcher (docs/mpi.md).
        .target(name: "SimSiamRuntime", dependencies: ["SimSiamABI", "SimSiamToolchain"], resources: [.copy("MPI")]),
        // libpng, libjpeg-turbo and zlib behind plain C calls (their longjmp stays in C).
        .target(
            name: "CDecoders",
            linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg"), .linkedLibrary("z")]),
        .target(name: "SimSiamData", dependencies: ["CDecoders"]),
        .target(name: "SimSiamEval"),
        .target(
            name: "SimSiamC",
            dependencies: [
                "SimSiamIR", "SimSiamDSL", "SimSiamPasses", "SimSiamCodegen",
                "SimSiamToolchain", "SimSiamRuntime", "SimSiamData", "SimSiamEval",
            ]),
        .target(
            name: "SimSiamCLI",
            dependencies: [
                "SimSiamC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "simsiamc", dependencies: ["SimSiamCLI"]),

        .testTarget(name: "SimSiamIRTests", dependencies: ["SimSiamIR"]),
        .testTarget(name: "SimSiamDSLTests", dependencies: ["SimSiamDSL"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SimSiamPassesTests", dependencies: ["SimSiamPasses", "SimSiamDSL"]),
        .testTarget(
            name: "SimSiamCodegenTests", dependencies: ["SimSiamCodegen", "SimSiamDSL", "SimSiamToolchain"],
            resources: [.copy("CRuntimeTests")]),
        .testTarget(name: "SimSiamToolchainTests", dependencies: ["SimSiamToolchain"]),
        .testTarget(name: "SimSiamRuntimeTests", dependencies: ["SimSiamRuntime", "SimSiamToolchain"]),
        // Test-only PNG and JPEG encoders, to write fixtures with the decoders' own libraries.
        .target(
            name: "CImageEncode", path: "Tests/CImageEncode",
            linkerSettings: [.linkedLibrary("png"), .linkedLibrary("jpeg"), .linkedLibrary("z")]),
        // Fixture writers shared by the test targets: PNG, JPEG, .npy and .npz files.
        .target(name: "SimSiamTestSupport", dependencies: ["CImageEncode", "SimSiamData"], path: "Tests/SimSiamTestSupport"),
        .testTarget(
            name: "SimSiamDataTests", dependencies: ["SimSiamData", "SimSiamTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SimSiamEvalTests", dependencies: ["SimSiamEval"]),
        .testTarget(name: "SimSiamFuzzTests", dependencies: ["SimSiamData", "SimSiamRuntime", "SimSiamTestSupport"]),
        .testTarget(
            name: "SimSiamCTests", dependencies: ["SimSiamC", "SimSiamCLI", "SimSiamTestSupport"],
            resources: [.copy("Fixtures")]),
    ]
)
