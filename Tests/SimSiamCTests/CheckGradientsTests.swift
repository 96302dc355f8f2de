import Foundation
import Testing
@testable import SimSiamC
@testable import SimSiamDSL

/// `simsiamc check-gradients`: passes on an honest model, fails on a broken
/// backward kernel naming the tensor, and exits non-zero when it fails.
@Suite(.serialized) struct CheckGradientsTests {
    /// The tiny model's checked graph in float64, its C with `edit` applied, built and loaded.
    static func tinyLibrary(kernels: KernelStrategy, edit: (String) throws -> String = { $0 }) throws -> ModelLibrary {
        let lowered = try Lowering.lower(Workload.tiny.makeModel(GradientCheck.checkedVariant()), name: "tiny", batch: 4,
                                         options: GradientCheck.options(kernels: kernels))
        let generated = lowered.generated
        let build = try quickTestCache.build(source: try edit(generated.source), header: generated.header,
                                             headerName: generated.baseName + ".h", libraryName: generated.baseName)
        return try ModelLibrary.load(path: build.path)
    }

    /// Scales the gradient of one element of predictor.3.bias by 1.001 in its
    /// backward kernel: a VJP wrong by 0.1% in one place.
    static func breakBiasGradient(_ source: String) throws -> String {
        let kernel = "static void linear_bwd_bias__predictor_3("
        guard let start = source.range(of: kernel),
              let store = source.range(of: "db[o] = sum;", range: start.upperBound..<source.endIndex)
        else { throw CompileError("the generated C has no \(kernel)...db[o] = sum; to break") }
        return source.replacingCharacters(in: store, with: "db[o] = (o == 1 ? 1.001 : 1.0) * sum;")
    }

    @Test(arguments: KernelStrategy.allCases)
    func brokenBackwardKernelFailsNamingTheTensor(kernels: KernelStrategy) throws {
        // Two element probes of a 16-element bias sample elements 0 and 8; the directions reach element 1.
        let probes = GradientProbes(elementsPerTensor: 2, directionsPerTensor: 2)
        let honest = try GradientCheck.run(try Self.tinyLibrary(kernels: kernels), seed: 1, probes: probes)
        #expect(honest.passed, "\(honest.table)")
        #expect(honest.failure == nil)

        let broken = try GradientCheck.run(try Self.tinyLibrary(kernels: kernels, edit: Self.breakBiasGradient), seed: 1, probes: probes)
        #expect(!broken.passed)
        #expect(broken.failing.map(\.name) == ["predictor.3.bias"], "\(broken.table)")
        let failure = try #require(broken.failure)
        #expect(failure.tensor == "predictor.3.bias")
        #expect(failure.error > 1e-4 && failure.error < 1e-2, "a 0.1% error in one element, \(failure.error) relative")
        #expect(failure.description.contains("gradient of predictor.3.bias differs from central finite differences by"))
        #expect(failure.description.contains("above the tolerance 1e-05"))
        #expect(broken.table.contains("worst: predictor.3.bias"))
        // Everything else still checks out: the edit broke one tensor and the check blames only it.
        for result in broken.results where result.name != "predictor.3.bias" {
            let clean = try #require(honest.results.first { $0.name == result.name })
            #expect(result.error == clean.error, "\(result.name)")
        }
    }

    /// A bias right before a batch norm has no gradient: the mean subtraction
    /// removes it. Its finite differences are rounding noise, which the check
    /// takes relative to a floor (1e-3 of the largest gradient element), not to
    /// its own max |grad| of about 1e-17.
    @Test func biasBeforeBatchNormHasNoGradientAndPasses() throws {
        let m = Model()
        let x = m.declareParameter("x", [6, 5], .uniformFanIn(fanIn: 1))
        let w = m.declareParameter("fc.weight", [3, 5], .uniformFanIn(fanIn: 5))
        let b = m.declareParameter("fc.bias", [3], .uniformFanIn(fanIn: 5))
        let bn = BatchNorm(m, "bn", 3)
        let g = GraphBuilder(name: "bias-before-bn", model: m, training: true)
        let y = bn(g.parameter(x).linear(g.parameter(w), bias: g.parameter(b))).relu()
        g.output("loss", y.cosineSimilarity(g.input("target", [6, 3])).mean())
        let lowered = try Lowering.lower(forward: try g.finish(), features: nil, options: GradientCheck.options(kernels: .reference))
        let library = try Compiler.build(lowered, cache: quickTestCache).library

        let report = try GradientCheck.run(library, seed: 2)
        #expect(report.passed, "\(report.table)")
        let bias = try #require(report.results.first { $0.name == "fc.bias" })
        #expect(bias.scale < 1e-12 && bias.scale < bias.floor, "\(report.table)")
        #expect(report.table.contains("max |grad| below the floor"))
        // Without the floor the same noise is judged against ~1e-17 and fails.
        let state = ModelState(library: library)
        state.initialize(seed: 2)
        var random = XorShiftRandom(seed: 2)
        try state.randomizeBatchNormAffine(&random)
        let inputs = library.inputs.map { random.array($0.numel, -2, 2).map(Float.init) }
        let unfloored = try FiniteDifferences.check(state, inputs: inputs)
        #expect(try #require(unfloored.first { $0.name == "fc.bias" }).error > 1e-5)
    }

    @Test func probesSpreadOverTheTensorAndCountDirections() {
        let probes = GradientProbes(elementsPerTensor: 8, directionsPerTensor: 3)
        #expect(probes.probes(count: 5) == 8)
        #expect(probes.probes(count: 100) == 11)
        #expect(FiniteDifferences.relativeError([1, 2.5], [1, 2]) == 0.25)
        #expect(FiniteDifferences.relativeError([0.5, 0], [0, 0]) == 0.5)
    }

    /// A kink inside [-h, h] on either side: the central difference averages two slopes, the
    /// one-sided re-measurement takes the slope at 0 from the side without the kink.
    @Test(arguments: [0.3, -0.3, 0.9, -0.05])
    func oneSidedDerivativeStepsAroundAKink(at fraction: Double) throws {
        let h = 1e-6, kink = fraction * h
        let f = { (t: Double) in 0.5 + 2 * t + 5 * max(0, fraction > 0 ? t - kink : kink - t) }
        let central = (f(h) - f(-h)) / (2 * h)
        #expect(abs(central - 2) > 0.1, "the central difference straddles the kink: \(central)")
        let oneSided = try FiniteDifferences.oneSidedDerivative(step: h, at: (f(-h), f(0), f(h))) { f($0) }
        #expect(abs(oneSided - 2) < 1e-6, "\(oneSided)")
        // Smooth: the same as a central difference, up to O(h^2).
        let smooth = try FiniteDifferences.oneSidedDerivative(step: 1e-4, at: (sin(-3e-4), 0, sin(3e-4))) { sin(3 * $0) }
        #expect(abs(smooth - 3) < 1e-6, "\(smooth)")
    }

    /// The command as a user runs it: the tiny model passes with the defaults;
    /// an impossible tolerance makes it exit 1 naming the worst tensor.
    @Test func commandPassesOnTinyAndFailsAboveTheTolerance() throws {
        let environment = ["SIMSIAMC_CACHE_DIR": testCacheDirectory.path, "SIMSIAMC_CFLAGS": "-O1"]
        let passing = try CommandLineRun(arguments: ["check-gradients", "--workload", "tiny"], environment: environment).run()
        #expect(passing.status == 0, "\(passing.output)")
        #expect(passing.output.contains("tiny, batch 4, float64, tuned kernels"), "\(passing.output)")
        #expect(passing.output.contains("[30/30] "), "one progress line per tensor: \(passing.output)")
        #expect(passing.output.contains(/worst: \S+ at \S+ relative, tolerance 1e-05: passed/), "\(passing.output)")

        let failing = try CommandLineRun(arguments: ["check-gradients", "--workload", "tiny", "--kernels", "reference", "--tolerance", "1e-30",
                                                     "--elements", "1", "--directions", "0"], environment: environment).run()
        #expect(failing.status == 1, "\(failing.output)")
        let worst = try #require(failing.output.firstMatch(of: /worst: (\S+) at/)?.1, "\(failing.output)")
        #expect(failing.output.contains("Error: gradient of \(worst) differs from central finite differences by"), "\(failing.output)")
        #expect(failing.output.contains("above the tolerance 1e-30"), "\(failing.output)")
    }
}
