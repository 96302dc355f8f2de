import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc compile`: writes a tuning directory (C, header, library, build line,
/// manifest) for a workload and prints the summary.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile", abstract: "Compile a workload to C and a native library, in a directory for tuning the C by hand.",
        discussion: """
            Writes <stem>.c and <stem>.h (the C, written for editing), <stem>.so (the library simsiamc built from it), \
            build.sh (the exact compiler command of simsiamc's build cache), manifest.json (the graph: workload, \
            batch, variant, precision, kernels, vector width, hash of the C, ABI version) and plan.json (the kernel \
            plan: the algorithm of each convolution layer and pass, printed as a table; edit it and compile with --plan).

            After editing a kernel: `simsiamc verify --library DIR` checks the math kernel by kernel, and \
            `simsiamc bench --library DIR --profile` times it; train, step and eval take --library DIR too.
            """)

    @OptionGroup var options: WorkloadOptions

    @Option(help: "Directory for the tuning files (created if missing).")
    var out: String

    @Flag(help: "Print the IR of the training graph (forward and backward) and the feature graph.")
    var printIR = false

    @Option(help: "Also write the training step as Graphviz DOT (render with `dot -Tsvg FILE -o step.svg`, Debian's graphviz): forward and backward ops, fused ops marked, the ops stop-gradient pruned in a cluster.")
    var graphView: String?

    @OptionGroup var codegen: CodegenArguments

    @OptionGroup(title: "SimSiam variant (the paper's ablations)") var variant: VariantOptions

    func run() throws {
        var codegenOptions = try codegen.options()
        codegenOptions.tuningHooks = true
        let cache = try BuildCache()
        let model = try options.load()
        let compiled = try Compiler.compile(model.workload, batch: options.batch(for: model.workload), options: codegenOptions,
                                            variant: variant.variant, cache: cache)
        if printIR {
            say(Printer.print(compiled.lowered.training))
            if let features = compiled.lowered.features { say(Printer.print(features)) }
        }
        if let graphView {
            let graphs = try model.workload.trace(variant.variant, batch: compiled.lowered.batch)
            let dot = try GraphView.dot(forward: graphs.training, executed: compiled.lowered.training)
            try AtomicFile.write(Data(dot.utf8), to: URL(fileURLWithPath: graphView))
            say("  graph:   \(graphView) (Graphviz DOT: dot -Tsvg \(graphView) -o step.svg)")
        }
        let directory = URL(fileURLWithPath: out)
        let files = try TuningDirectory.write(compiled, model: model, variant: variant.variant,
                                              to: directory, cache: cache)
        say(compiled.summary)
        say(Self.planLines(compiled.lowered, planFile: directory.appendingPathComponent(PlanFile.fileName).path))
        say("  wrote:   \(directory.path)/{\(files.joined(separator: ","))}")
        say("  plan:    edit \(PlanFile.fileName), then `simsiamc compile --plan \(out)/\(PlanFile.fileName) --out DIR2`")
        say("  tune:    edit \(compiled.lowered.generated.baseName).c, then `simsiamc verify --library \(out)` and `simsiamc bench --library \(out) --profile`")
    }

    /// The plan table under a "plan:" heading, `*` explained when a --plan changed a choice.
    static func planLines(_ lowered: LoweredProgram, planFile: String) -> String {
        guard lowered.options.kernels == .tuned else { return "  plan:    none (reference kernels have one algorithm)" }
        let table = lowered.planTable.split(separator: "\n").map { "           " + $0 }.joined(separator: "\n")
        let note = lowered.options.plan == nil ? "the cost models' choices"
            : "* marks \(lowered.tunedPlan == nil ? "--plan's" : "the tuned plan's") choices where the cost models chose otherwise"
        return "  plan:    convolutions (\(note); xN: images per pass, /N: Winograd tiles per block; written to \(planFile)):\n" + table
    }
}
