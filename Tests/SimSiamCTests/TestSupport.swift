import Foundation
import Testing
@testable import SimSiamC

let testCacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-test-cache")

/// One build cache for the whole test process, with the production flags:
/// tests that compile the same graph share the library, as users' processes do.
let testCache = BuildCache(directory: testCacheDirectory, compiler: try! CompilerProbe.resolve())

/// The same at -O1, which clang builds ~8x faster than -O3 (1.3 s vs 10.6 s
/// for the tiny model here): for the tests that compile many variants.
let quickTestCache: BuildCache = {
    let compiler = try! CompilerProbe.resolve()
    return BuildCache(directory: testCacheDirectory,
                      compiler: CCompiler(path: compiler.path, version: compiler.version, extraFlags: compiler.extraFlags + ["-O1"],
                                          openMPVersion: compiler.openMPVersion))
}()

/// Deterministic pseudo-random numbers for test data: the generator the
/// gradient check draws its inputs and directions from.
typealias TestRandom = XorShiftRandom

/// max|a - b| / max|b|: the relative error the tolerances are stated in.
func relativeError(_ a: [Double], _ b: [Double]) -> Double { FiniteDifferences.relativeError(a, b) }

/// The state of `lowered`'s library after one step's loss and gradients, from parameters of
/// `parameterSeed` and inputs drawn with `TestRandom(seed: inputSeed)`.
func steppedState(_ lowered: LoweredProgram, parameterSeed: UInt64, inputSeed: UInt64) throws -> ModelState {
    let compiled = try Compiler.build(lowered, cache: quickTestCache)
    let state = ModelState(library: compiled.library)
    state.initialize(seed: parameterSeed)
    var random = TestRandom(seed: inputSeed)
    let inputs = compiled.library.inputs.map { random.array($0.numel).map(Float.init) }
    _ = try state.lossAndGradients(inputs)
    return state
}

/// A fresh path under the temporary directory (not created); tests remove it when done.
func temporaryDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("simsiamc-test-\(UUID().uuidString)")
}

/// The directory holding the built products (`simsiamc` next to the test bundle).
var productsDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

/// The package root (for `Generated/` and fixtures).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
