import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc check-gradients`: the gradients of a model's training graph
/// against central finite differences of its loss, for checking a model you wrote.
struct CheckGradientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-gradients",
        abstract: "Check a model's gradients against central finite differences of its loss (float64 build, tiny batch).",
        discussion: """
            Compiles the workload's training graph in float64 with the chosen kernels (tuned by default: what training \
            runs), initialises it with --seed, gives every BN gamma and beta a random value (a zero-initialised residual \
            gamma would zero its branch's gradients and hide errors there) and draws random inputs. Then, for every \
            trainable tensor, compares --elements single elements and --directions random unit directions of the gradient \
            one training step computes with (L(x + h d) - L(x - h d)) / 2h, h = --step: each probe costs two steps. \
            A probe above the tolerance is measured again one-sided (two more steps), in case a ReLU kink lay within h. \
            The error of a tensor is max |finite difference - gradient| over its probes, relative to the largest \
            gradient component probed, or to 1e-3 of the model's largest gradient element if that is more (a bias right \
            before a batch norm has no gradient, and its finite differences are noise).

            Stop-gradient is turned off for the check: with it the step's gradient is by design not the derivative of \
            the loss. Without it every backward kernel of the standard graph runs, plus the target branch's.

            --batch defaults to 4 here (the check costs two steps per probe), --threads to 1 (at that batch a kernel \
            costs less than an OpenMP fork-join). Exit status 1, naming the worst tensor, \
            its error and the tolerance, when a tensor is above --tolerance.
            """)

    @OptionGroup var options: WorkloadOptions

    @Option(help: "Kernels checked: tuned (what training runs) or reference (plain loops).")
    var kernels: KernelStrategy = .tuned

    @Option(help: "Vector registers the tuned kernels' tiles are sized for: avx512 or avx2 (default: this CPU's).")
    var vectorWidth: VectorWidth = .host

    @Option(parsing: .unconditional, help: "Largest relative error accepted per tensor.")
    var tolerance: Double = GradientCheck.defaultTolerance

    @Option(parsing: .unconditional, help: "Single elements probed per tensor, evenly spread (all of a smaller tensor).")
    var elements: Int = GradientProbes().elementsPerTensor

    @Option(parsing: .unconditional, help: "Random unit directions probed per tensor (they reach every element).")
    var directions: Int = GradientProbes().directionsPerTensor

    @Option(parsing: .unconditional, help: "Finite-difference step h (the loss is evaluated at x ± h·d).")
    var step: Double = GradientProbes().step

    @Option(parsing: .unconditional, help: "Seed of the parameters, BN affine values and inputs.")
    var seed: UInt64 = 0

    /// Small: every probe runs two training steps, and the batch does not change what is checked.
    static let defaultBatch = 4

    func validate() throws {
        try FlagCheck.positive(tolerance, "--tolerance")
        try FlagCheck.positive(step, "--step")
        try FlagCheck.atLeast(elements, 0, "--elements")
        try FlagCheck.atLeast(directions, 0, "--directions")
        guard elements + directions > 0 else { throw ValidationError("--elements 0 --directions 0 probes nothing; give at least one probe per tensor") }
    }

    func run() throws {
        options.applyThreads()
        // One thread unless asked otherwise: at batch 4 a kernel's work is smaller than an OpenMP
        // fork-join, and the check runs thousands of steps (tiny: 1 s on 1 thread, 12.5 s on 2
        // with the cores shared, docs/commands.md).
        if options.threads == nil && ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] == nil {
            setenv("OMP_NUM_THREADS", "1", 1)
        }
        let workload = try options.load().workload
        let batch = options.batch ?? Self.defaultBatch
        let variant = GradientCheck.checkedVariant()
        let compiled = try Compiler.compile(workload, batch: batch, options: GradientCheck.options(kernels: kernels, vectorWidth: vectorWidth),
                                            variant: variant)
        printError(compiled.summary)
        let probes = GradientProbes(elementsPerTensor: elements, directionsPerTensor: directions, step: step)
        let trainable = compiled.library.symbols.filter { $0.kind == .trainable }
        let steps = trainable.map { probes.probes(count: $0.numel) }.reduce(0, +) * 2
        printError("checking \(trainable.count) tensors: \(steps) training steps at batch \(batch) (seed \(seed))")
        let started = Date()
        let report = try GradientCheck.run(compiled.library, seed: seed, probes: probes, tolerance: tolerance) { result, index, total in
            let verdict = result.error <= tolerance ? "" : "  above the tolerance"
            printError(String(format: "[%d/%d] %@: %.2e (%.0f s)%@", index + 1, total, result.name, result.error,
                              Date().timeIntervalSince(started), verdict))
        }
        say("\(workload.name), batch \(batch), float64, \(kernels.rawValue) kernels\(kernels == .tuned ? " (\(vectorWidth.rawValue))" : ""), \(variant.summary)")
        say(report.table)
        if let failure = report.failure { throw failure }
    }
}
