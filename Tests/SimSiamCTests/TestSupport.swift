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

/// Deterministic pseudo-random numbers for test data.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Double(state >> 11) / Double(1 << 53)
    }

    /// Uniform in [low, high).
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * next() }

    mutating func array(_ count: Int, _ low: Double = -1, _ high: Double = 1) -> [Double] {
        (0..<count).map { _ in uniform(low, high) }
    }
}

/// max|a - b| / max|b|: the relative error the tolerances are stated in.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    let scale = b.map(abs).max() ?? 0
    return scale == 0 ? difference : difference / scale
}

extension ModelState {
    /// Gives every BN gamma and beta random values, so that no branch (e.g. a
    /// zero-init residual) has an all-zero gradient that would hide errors.
    func randomizeBatchNormAffine(_ random: inout TestRandom) throws {
        for symbol in library.symbols where symbol.kind == .trainable && symbol.shape.count == 1 {
            let values = symbol.name.hasSuffix(".weight") ? random.array(symbol.numel, 0.5, 1.5) : random.array(symbol.numel, -0.3, 0.3)
            try setTensor(named: symbol.name, HostTensor(shape: symbol.shape, doubles: values))
        }
    }

    /// Runs a step that changes no parameter (lr 0) and returns the loss; gradients land in GRADS.
    func lossAndGradients(_ inputs: [[Float]]) throws -> Double {
        try trainStep(inputs: inputs, groupLR: Array(repeating: 0, count: library.groupNames.count), weightDecay: 0, momentum: 0)
    }
}

/// Compares every trainable parameter's gradient with central finite
/// differences of the loss; returns the relative error per parameter.
///
/// Each tensor is probed along some of its elements (every k-th, at most
/// `elementsPerTensor`) and along `directionsPerTensor` random unit
/// directions, which reach every element: a wrong gradient anywhere in a
/// large tensor shows up there, where a few sampled elements may miss it.
/// A probe's derivative is one component of the gradient in some basis, so
/// all of a tensor's probes share one scale (max |analytic component|).
func finiteDifferenceErrors(_ state: ModelState, inputs: [[Float]], step: Double = 1e-6, elementsPerTensor: Int = .max,
                            directionsPerTensor: Int = 0) throws -> [(name: String, error: Double)]
{
    _ = try state.lossAndGradients(inputs)
    var analytic: [String: [Double]] = [:]
    for symbol in state.library.symbols where symbol.kind == .trainable {
        analytic[symbol.name] = state.gradient(named: symbol.name)!.doubles
    }
    var random = TestRandom(seed: 13)
    var results: [(String, Double)] = []
    for symbol in state.library.symbols where symbol.kind == .trainable {
        let original = state.tensor(named: symbol.name)!.doubles
        let gradient = analytic[symbol.name]!
        func derivative(along direction: [(index: Int, weight: Double)]) throws -> Double {
            var loss: [Double] = []
            for sign in [1.0, -1.0] {
                var values = original
                for (index, weight) in direction { values[index] += sign * step * weight }
                try state.setTensor(named: symbol.name, HostTensor(shape: symbol.shape, doubles: values))
                loss.append(try state.lossAndGradients(inputs))
            }
            try state.setTensor(named: symbol.name, HostTensor(shape: symbol.shape, doubles: original))
            return (loss[0] - loss[1]) / (2 * step)
        }
        var numeric: [Double] = [], expected: [Double] = []
        let stride = max(1, original.count / min(original.count, elementsPerTensor))
        for index in Swift.stride(from: 0, to: original.count, by: stride) {
            numeric.append(try derivative(along: [(index, 1)]))
            expected.append(gradient[index])
        }
        for _ in 0..<directionsPerTensor {
            let raw = random.array(original.count)
            let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let direction = raw.enumerated().map { (index: $0.offset, weight: $0.element / norm) }
            numeric.append(try derivative(along: direction))
            expected.append(zip(gradient, direction).reduce(0) { $0 + $1.0 * $1.1.weight })
        }
        results.append((symbol.name, relativeError(numeric, expected)))
    }
    return results
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
