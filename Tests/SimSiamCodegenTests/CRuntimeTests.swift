import Foundation
import SimSiamToolchain
import Testing

@testable import SimSiamCodegen

/// The C runtime (`Sources/SimSiamCodegen/CRuntime`, as the package's resource bundle holds
/// it) as C on its own, for every register tile simsiamc emits: each file compiles without a
/// warning, and `CRuntimeTests/runtime_test.c` checks the GEMM micro-kernel, both GEMM
/// drivers and two convolution drivers (`conv_gemm`, `conv_cl_gemm`) against naive loops.
///
/// The C is written with portable vector extensions, so every tile builds and runs on any
/// x86-64 CPU (on AVX2 a 64-byte vector becomes two instructions): the AVX-512 tiles are
/// checked on AVX2 machines too, with the host's instructions.
@Suite struct CRuntimeTests {
    /// Float and double, AVX-512 and AVX2.
    static let tiles: [RegisterTile] = Precision.allCases.flatMap { precision in
        VectorWidth.allCases.map { RegisterTile(precision: precision, width: $0) }
    }

    /// The macros the runtime files need, as `-D` flags, written out from the tile's
    /// properties rather than taken from `GemmSupport.macros`.
    static func defines(_ tile: RegisterTile) -> [String] {
        ["-DGEMM_REAL=\(tile.precision.cType)", "-DGEMM_LANES=\(tile.lanes)", "-DGEMM_MR=\(tile.rows)",
         "-DCONV_WEIGHT_ROWS=\(tile.weightRows)", "-DCONV_WEIGHT_COLS=\(tile.weightColumns)",
         "-DCONV_CL_WEIGHT_MR=\(tile.channelsLastWeightRows)"]
    }

    static func name(_ tile: RegisterTile) -> String { "\(tile.precision.cType) \(tile.width.rawValue)" }

    /// Each file alone (it includes the files it needs), with every warning an error except
    /// unused static functions: the files are libraries that a unit uses part of.
    @Test(arguments: tiles)
    func everyFileCompilesWithoutWarnings(tile: RegisterTile) throws {
        let compiler = try CompilerProbe.resolve()
        let scratch = try Scratch()
        for file in GemmSupport.files {
            // winograd.h needs the transform simsiamc generates; the rest need only the macros.
            // gemm_bf16.h is for float tiles, with its micro-kernel's switch.
            if file == "gemm_bf16.h" && tile.precision != .float32 { continue }
            let unit = file == "winograd.h"
                ? "#include \"gemm.h\"\n\(ConvWinograd.transformSource(.f2x2))\n#include \"winograd.h\"\n"
                : file == "gemm_bf16.h" ? "#define GEMM_BF16_DPBF16 \(tile.width == .avx512 ? 1 : 0)\n#include \"gemm_bf16.h\"\n"
                : "#include \"\(file)\"\n"
            let path = try scratch.write("lint_\(file).c", unit)
            let result = try run(compiler.path, ["-std=c11", "-march=native", "-fopenmp", "-Wall", "-Wextra", "-Werror",
                                                 "-Wno-unused-function", "-fsyntax-only", "-I", CRuntimeFiles.directory.path]
                                                + Self.defines(tile) + [path])
            #expect(result.status == 0, "CRuntime/\(file) for \(Self.name(tile)):\n\(result.output)")
        }
        // winograd.h's bfloat16 path (conv_wino_bf16), compiled only in bfloat16 builds.
        guard tile.precision == .float32 else { return }
        let unit = "#define GEMM_BF16_DPBF16 \(tile.width == .avx512 ? 1 : 0)\n#include \"gemm.h\"\n\(ConvWinograd.transformSource(.f2x2))\n#include \"winograd.h\"\n"
        let path = try scratch.write("lint_winograd_bf16.c", unit)
        let result = try run(compiler.path, ["-std=c11", "-march=native", "-fopenmp", "-Wall", "-Wextra", "-Werror",
                                             "-Wno-unused-function", "-fsyntax-only", "-I", CRuntimeFiles.directory.path]
                                            + Self.defines(tile) + [path])
        #expect(result.status == 0, "CRuntime/winograd.h with bf16 for \(Self.name(tile)):\n\(result.output)")
    }

    /// runtime_test.c built with simsiamc's own flags and run on two threads (so the
    /// drivers' per-thread partial sums are exercised); it exits 1 on any wrong value.
    @Test(arguments: tiles)
    func driversMatchNaiveLoops(tile: RegisterTile) throws {
        let compiler = try CompilerProbe.resolve()
        let scratch = try Scratch()
        guard let driver = Bundle.module.url(forResource: "CRuntimeTests/runtime_test", withExtension: "c") else {
            Issue.record("the test bundle has no CRuntimeTests/runtime_test.c")
            return
        }
        let executable = scratch.directory.appendingPathComponent("runtime_test").path
        let flags = compiler.flags.filter { $0 != "-shared" && $0 != "-fPIC" }
        let build = try run(compiler.path, flags + ["-I", CRuntimeFiles.directory.path] + Self.defines(tile)
                                + [driver.path, "-lm", "-o", executable])
        try #require(build.status == 0, "runtime_test.c for \(Self.name(tile)) did not build:\n\(build.output)")
        let result = try run(executable, [], environment: ["OMP_NUM_THREADS": "2"])
        #expect(result.status == 0, "runtime_test.c for \(Self.name(tile)):\n\(result.output)")
        #expect(result.output.contains("ok   conv_cl_gemm"), "runtime_test.c ran no convolution check:\n\(result.output)")
    }

    /// bf16_test.c (gemm_bf16.h against its specification) with the emulated micro-kernel on every
    /// CPU, for both tile widths; and, where the CPU lists avx512_bf16, with vdpbf16ps too, which
    /// must print the emulation's digest: the same bits.
    @Test func bf16KernelsMatchTheirSpecificationAndEachOther() throws {
        let compiler = try CompilerProbe.resolve()
        let scratch = try Scratch()
        guard let test = Bundle.module.url(forResource: "CRuntimeTests/bf16_test", withExtension: "c") else {
            Issue.record("the test bundle has no CRuntimeTests/bf16_test.c")
            return
        }
        let flags = compiler.flags.filter { $0 != "-shared" && $0 != "-fPIC" }
        var builds = VectorWidth.allCases.map { (RegisterTile(precision: .float32, width: $0), false) }
        if BF16Support.hasDPBF16(flags: BF16Support.hostFlags) {
            builds.append((RegisterTile(precision: .float32, width: .avx512), true))
        } else {
            print("bf16 vdpbf16ps kernel not run: this CPU has no \(BF16Support.avx512Flag); the emulation was checked")
        }
        var digests: [String] = []
        for (index, (tile, real)) in builds.enumerated() {
            let executable = scratch.directory.appendingPathComponent("bf16_test_\(index)").path
            let build = try run(compiler.path, flags + ["-I", CRuntimeFiles.directory.path] + Self.defines(tile)
                                    + ["-DGEMM_BF16_DPBF16=\(real ? 1 : 0)", test.path, "-lm", "-o", executable])
            let name = "\(Self.name(tile)) \(real ? "vdpbf16ps" : "emulated")"
            try #require(build.status == 0, "bf16_test.c for \(name) did not build:\n\(build.output)")
            let result = try run(executable, [], environment: ["OMP_NUM_THREADS": "2"])
            #expect(result.status == 0, "bf16_test.c for \(name):\n\(result.output)")
            digests += result.output.split(separator: "\n").filter { $0.hasPrefix("digest ") }.map(String.init)
        }
        #expect(digests.count == builds.count && Set(digests).count == 1, "the builds computed different bits: \(digests)")
    }

    /// Runs a program to completion; stdout and stderr merged.
    private func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (status: Int32, output: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Read before waiting: a long compiler log would otherwise fill the pipe and block.
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A temporary directory, removed when the value goes away.
private final class Scratch {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-cruntime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Writes `text` to `name` in the directory and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}
