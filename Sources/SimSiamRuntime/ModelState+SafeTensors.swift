import Foundation

/// What `ModelState.loadSafetensors` found in a file.
public struct SafeTensorsLoadReport: Sendable, Equatable {
    /// Model tensors (and `grad.<name>` gradients) that were loaded.
    public var loaded: [String] = []
    /// Model parameters, buffers and counters absent from the file.
    public var missing: [String] = []
    /// File tensors the model does not know.
    public var unexpected: [String] = []
    /// File tensors with the wrong shape or dtype, with the reason.
    public var mismatched: [String] = []
}

extension ModelState {
    /// Loads every parameter, buffer and counter present in the safetensors
    /// file at `url` (and `grad.<name>` gradients of parameters). With
    /// `strict`, a missing, unknown or wrong-shape tensor is an error and
    /// nothing is written; without it, such tensors are skipped and reported.
    /// - Throws: `RuntimeError` naming the file and the offending tensors.
    @discardableResult
    public func loadSafetensors(url: URL, strict: Bool) throws -> SafeTensorsLoadReport {
        let file = try SafeTensors.read(url: url)
        var report = SafeTensorsLoadReport()
        var writes: [(symbol: TensorSymbol, arena: TensorSymbol.Arena, tensor: HostTensor)] = []
        for (name, tensor) in file.tensors {
            guard let (symbol, arena) = destination(ofFileTensor: name) else {
                report.unexpected.append(name)
                continue
            }
            if let problem = incompatibility(of: tensor, with: symbol) {
                report.mismatched.append(problem)
                continue
            }
            writes.append((symbol, arena, tensor))
            report.loaded.append(name)
        }
        let present = Set(file.names)
        report.missing = library.symbols.filter { $0.isState && !present.contains($0.name) }.map(\.name)

        if strict && !(report.missing.isEmpty && report.unexpected.isEmpty && report.mismatched.isEmpty) {
            var problems: [String] = []
            if !report.missing.isEmpty { problems.append("missing tensors: " + report.missing.joined(separator: ", ")) }
            if !report.unexpected.isEmpty {
                problems.append("unexpected tensors: " + report.unexpected.joined(separator: ", "))
            }
            problems += report.mismatched
            throw RuntimeError("safetensors file \(url.path) does not match the model: " + problems.joined(separator: "; "))
        }
        for (symbol, arena, tensor) in writes {
            write(tensor, to: symbol, in: arena)
        }
        return report
    }

    /// Writes `exportTensors(includeGradients:)` to `url` atomically.
    public func saveSafetensors(url: URL, includeGradients: Bool = false, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(exportTensors(includeGradients: includeGradients), metadata: metadata, to: url)
    }

    /// Where a file tensor called `name` goes: a state tensor's own arena,
    /// GRADS for `grad.<parameter>`, MOMENTUM for `momentum.<parameter>`.
    private func destination(ofFileTensor name: String) -> (TensorSymbol, TensorSymbol.Arena)? {
        if let symbol = library.symbol(named: name), symbol.isState {
            return (symbol, symbol.arena)
        }
        for (prefix, arena) in [(Self.gradientPrefix, TensorSymbol.Arena.grads), (Self.momentumPrefix, .momentum)]
        where name.hasPrefix(prefix) {
            if let symbol = library.symbol(named: String(name.dropFirst(prefix.count))), symbol.arena == .params {
                return (symbol, arena)
            }
        }
        return nil
    }
}
