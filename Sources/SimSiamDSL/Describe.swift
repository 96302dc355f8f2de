import Foundation
import SimSiamIR

/// The last line of a model-description file: hands `workload` to simsiamc.
///
///     import SimSiamDSL
///     let myModel = Workload(name: "my-model", defaultBatch: 128) { variant in ... }
///     describe(myModel)
///
/// simsiamc builds the file against this module and runs it (the way SwiftPM
/// evaluates `Package.swift`) with `--simsiamc-trace --batch N --variant JSON
/// --out FILE`; the program then writes the traced graphs there as a
/// `DescribedModel` and exits. Run by hand, it prints what it describes.
/// A graph that does not verify is reported on standard error, naming the op,
/// layer, DSL line and shapes, and the program exits with status 1.
public func describe(_ workload: Workload) -> Never {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard arguments.first == "--simsiamc-trace" else {
        print("""
            \(workload.name): a simsiamc model description (image \(workload.imageShape), default batch \(workload.defaultBatch), base lr \(workload.baseLR), weight decay \(workload.weightDecay)).
            Compile it with: simsiamc compile --model \(CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "FILE").swift
            """)
        exit(0)
    }
    func value(_ flag: String) -> String? {
        arguments.firstIndex(of: flag).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
    }
    do {
        guard let out = value("--out") else { throw DescriptionProtocolError("--out FILE is missing") }
        let batch = try value("--batch").map { text in
            guard let batch = Int(text) else { throw DescriptionProtocolError("--batch \(text) is not a number") }
            return batch
        } ?? workload.defaultBatch
        let variant = try value("--variant").map { try JSONDecoder().decode(SimSiamVariant.self, from: Data($0.utf8)) } ?? .standard
        let described = try DescribedModel(tracing: workload, variant: variant, batch: batch)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(described).write(to: URL(fileURLWithPath: out))
        exit(0)
    } catch {
        // A DSLError already starts with "<file>:<line>: error:".
        FileHandle.standardError.write(Data(((error is DSLError ? "" : "error: ") + "\(error)\n").utf8))
        exit(1)
    }
}

/// simsiamc and a description program disagree on the command line (a version mismatch).
struct DescriptionProtocolError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
