import ArgumentParser
import Foundation
import SimSiamC

/// `simsiamc generate`: rewrites `Generated/`, the emitted C of the reference
/// workloads at their reference batch sizes, so reviews show how a compiler
/// change alters the code people read.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write the C and header of both reference workloads (no clang run).")

    @Option(help: "Output directory.")
    var out: String = "Generated"

    func run() throws {
        let directory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for generated in try ReferenceSources.all() {
            for (name, text) in generated.files {
                try AtomicFile.write(Data(text.utf8), to: directory.appendingPathComponent(name))
                say("wrote \(directory.path)/\(name)")
            }
        }
    }
}
