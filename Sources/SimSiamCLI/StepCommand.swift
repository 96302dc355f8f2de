import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc step`: exactly one training step on given views, every result
/// written out, for checking against another framework and for debugging.
struct StepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Run one training step on x1/x2 and write the loss, every gradient and the updated state.",
        discussion: """
            Reads parameters and BN buffers (PyTorch state_dict names) from --params, or initialises them \
            with --seed when --params is absent; reads `x1` and `x2` (augmented, normalised, NCHW float32) \
            from --views. Writes `loss`, `grad.<name>` for every trainable parameter, and the updated \
            parameters, BN running statistics and num_batches_tracked to --out.

            Under `mpirun -np N` each rank steps on its shard of the views (the gradients are the \
            sums over all ranks) and rank 0 writes --out.
            """)

    @OptionGroup var options: WorkloadOptions

    @Option(help: "Parameters and BN buffers (safetensors). Absent: initialise with --seed.")
    var params: String?

    @Option(help: "Safetensors file with tensors x1 and x2, each [batch, C, H, W] float32.")
    var views: String

    @Option(help: "Where to write the results (safetensors).")
    var out: String

    @Option(parsing: .unconditional, help: "Learning rate of this step for every group (default: base lr x batch / 256).")
    var lr: Double?

    @Option(parsing: .unconditional, help: "Weight decay (default: the workload's).")
    var weightDecay: Double?

    @Option(parsing: .unconditional, help: "SGD momentum.")
    var momentum: Double = 0.9

    @Option(parsing: .unconditional, help: "Seed for initialisation when --params is absent.")
    var seed: UInt64 = 0

    @OptionGroup var codegen: CodegenArguments
    @OptionGroup(title: "Tuning (C edited by hand)") var library: LibraryOptions

    func validate() throws {
        try FlagCheck.nonNegative(lr, "--lr")
        try FlagCheck.nonNegative(weightDecay, "--weight-decay")
        try FlagCheck.within(momentum, 0...0.999, "--momentum", "SGD momentum below 1")
    }

    func run() throws {
        options.applyThreads()
        try FlagCheck.existingFile(params, "--params", "a safetensors file of parameters and BN buffers, or leave --params out to initialise with --seed")
        try FlagCheck.existingFile(views, "--views", "a safetensors file with tensors x1 and x2")
        let ranks = try MPIRanks.join()
        let workload: Workload
        let compiled: CompiledModel
        var shard = BatchShard.whole(0)
        if let directory = try library.directory() {
            if ranks != nil {
                throw ValidationError("--library: C edited by hand is compiled at one batch; run a data-parallel step without --library")
            }
            let program = try library.load(directory, workload: options, codegen: codegen)
            workload = try directory.manifest.resolvedWorkload()
            compiled = program.edited
            printError(compiled.summary + "\n" + program.summary)
        } else {
            workload = try options.load().workload
            let batch = options.batch(for: workload)
            shard = .of(batch, on: ranks)
            try shard.validate()
            compiled = try Compiler.compile(workload, batch: shard.count, options: try codegen.options())
            if shard.isLead { printError(compiled.summary) }
        }
        if let ranks { try ranks.install(on: compiled.library) }
        let state = ModelState(library: compiled.library)
        if let params {
            try state.loadSafetensors(url: URL(fileURLWithPath: params), strict: true)
        } else {
            state.initialize(seed: seed)
        }
        let viewFile = try SafeTensors.read(url: URL(fileURLWithPath: views))
        let inputs = try compiled.library.inputs.map { symbol -> [Float] in
            guard let tensor = viewFile.tensor(named: symbol.name) else {
                throw ValidationError("\(views) has no tensor \"\(symbol.name)\" (it holds: \(viewFile.names.joined(separator: ", ")))")
            }
            // Data-parallel: the file holds the global batch, this rank takes its rows.
            let expected = ranks == nil ? symbol.shape : [shard.globalBatch] + symbol.shape.dropFirst()
            guard tensor.shape == expected else {
                throw ValidationError("\(views): \(symbol.name) has shape \(tensor.shape), the compiled graph expects \(expected); pass --batch \(tensor.shape.first ?? 0) or fix the file")
            }
            return ranks == nil ? tensor.floats : shard.rows(of: tensor.floats)
        }
        let globalBatch = ranks == nil ? compiled.library.batch : shard.globalBatch
        let rate = lr ?? workload.baseLR * Double(globalBatch) / 256
        let start = Date()
        let loss = try state.trainStep(inputs: inputs, groupLR: Array(repeating: rate, count: compiled.library.groupNames.count),
                                       weightDecay: weightDecay ?? workload.weightDecay, momentum: momentum)
        let seconds = Date().timeIntervalSince(start)
        guard shard.isLead || ranks == nil else { return }
        // The loss in the library's own precision: a float64 build is compared to 1e-9 and beyond.
        let lossTensor = compiled.library.scalarBytes == 8 ? HostTensor(shape: [], doubles: [loss]) : HostTensor(shape: [], floats: [Float(loss)])
        let results = [(name: "loss", tensor: lossTensor)]
            + state.exportTensors(includeGradients: true)
        try SafeTensors.write(results, metadata: ["workload": workload.name, "lr": "\(rate)"], to: URL(fileURLWithPath: out))
        say(String(format: "loss %.7f  (step %.3f s, lr %g)  -> %@", loss, seconds, rate, out))
    }
}
