import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc compile`: writes the C, header and library of a workload and prints the summary.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile", abstract: "Compile a workload to C and a native library.")

    @OptionGroup var options: WorkloadOptions

    @Option(help: "Directory for the .c, .h and .so (created if missing).")
    var out: String

    @Flag(help: "Print the IR of the training graph (forward and backward) and the feature graph.")
    var printIR = false

    @OptionGroup var codegen: CodegenArguments

    @OptionGroup(title: "SimSiam variant (the paper's ablations)") var variant: VariantOptions

    func run() throws {
        let compiled = try Compiler.compile(options.resolvedWorkload, batch: options.resolvedBatch, options: codegen.options(),
                                            variant: variant.variant)
        if printIR {
            say(Printer.print(compiled.lowered.training))
            if let features = compiled.lowered.features { say(Printer.print(features)) }
        }
        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stem = compiled.lowered.generated.baseName
        try AtomicFile.write(Data(compiled.lowered.generated.source.utf8), to: directory.appendingPathComponent(stem + ".c"))
        try AtomicFile.write(Data(compiled.lowered.generated.header.utf8), to: directory.appendingPathComponent(stem + ".h"))
        // A fresh file renamed into place: a process that loaded an older copy keeps its own.
        try AtomicFile.write(try Data(contentsOf: URL(fileURLWithPath: compiled.build.path)),
                            to: directory.appendingPathComponent(stem + ".so"))
        say(compiled.summary)
        say("  wrote:   \(directory.path)/\(stem).{c,h,so}")
    }
}
