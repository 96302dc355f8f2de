import Foundation

/// Weights from a PyTorch `state_dict` saved as safetensors: the start of a
/// run (`train --init`) or the backbone to evaluate (`eval --init`).
///
/// How a file key finds its model tensor:
/// 1. The key itself, when it names a model parameter, BN buffer or counter:
///    a full SimSiam `state_dict` (`backbone.conv1.weight`,
///    `projector.0.weight`) or a simsiamc checkpoint.
/// 2. Else the key with the backbone prefix `backbone.` in front: the
///    `state_dict` of a backbone module alone (`conv1.weight`,
///    `layer2.0.downsample.1.running_var`), as torchvision's ResNet and the
///    reference's `ResNet` name them.
/// 3. Else the key is *unexpected* and not loaded (torchvision's `fc.weight`).
///    A checkpoint's `momentum.*` and `grad.*` tensors are optimiser state:
///    skipped and counted, because a run starts with zero momentum.
///
/// Model tensors that no key reaches are *missing*: they keep the seeded
/// initialisation. Like PyTorch's `load_state_dict(strict=False)`, neither
/// list is an error. These are, and then nothing is written: a shape that
/// differs (naming the key and both shapes), an int64 tensor for a float
/// parameter or a float `num_batches_tracked`, two keys that reach the same
/// tensor, a file of which no key matches, and a dtype other than F32, F64
/// (converted to the model's scalar) and I64.
public enum InitialWeights {
    /// What a backbone module's keys lack in front, compared with the model's.
    public static let backbonePrefix = "backbone."

    /// What a load matched, in the terms of PyTorch's `load_state_dict` report.
    public struct Report: Sendable, Equatable {
        /// The model tensors written, by their model name, in file order.
        public var loaded: [String] = []
        /// Model parameters, buffers and counters absent from the file, in model order.
        public var missing: [String] = []
        /// File keys that match no model tensor, in file order.
        public var unexpected: [String] = []
        /// `momentum.*` and `grad.*` tensors of a simsiamc checkpoint, skipped.
        public var optimizerState = 0

        /// Missing tensors of the backbone: eval cannot do without them.
        public var missingBackbone: [String] { missing.filter { $0.hasPrefix(InitialWeights.backbonePrefix) } }

        /// "loaded 31 tensors; missing: none; unexpected: fc.weight, fc.bias".
        public var summary: String {
            func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
            return "loaded \(loaded.count) tensor\(loaded.count == 1 ? "" : "s"); missing (seeded initialisation kept): "
                + list(missing) + "; unexpected (not loaded): " + list(unexpected)
                + (optimizerState > 0 ? "; skipped \(optimizerState) optimiser tensors (momentum., grad.)" : "")
        }
    }

    /// Loads the safetensors `state_dict` at `url` into `state` by the rules
    /// above; tensors the file lacks are left as they are.
    /// - Throws: `CompileError` naming the file and the key, and writing nothing.
    @discardableResult
    public static func load(_ url: URL, into state: ModelState) throws -> Report {
        let file: SafeTensorsFile
        do {
            file = try SafeTensors.read(url: url)
        } catch {
            throw CompileError("--init: \(error)")
        }
        let (writes, report) = try match(file, to: state.library, source: url.path)
        for (name, tensor) in writes { try state.setTensor(named: name, tensor) }
        return report
    }

    /// The model tensor each file tensor goes to, and the report.
    /// - Throws: `CompileError` for every error of the rules above, all of them in one message.
    static func match(_ file: SafeTensorsFile, to library: ModelLibrary, source: String)
        throws -> (writes: [(name: String, tensor: HostTensor)], report: Report) {
        var report = Report()
        var writes: [(name: String, tensor: HostTensor)] = []
        var problems: [String] = []
        var origin: [String: String] = [:]  // model name -> file key
        for (key, tensor) in file.tensors {
            if [ModelState.momentumPrefix, ModelState.gradientPrefix].contains(where: key.hasPrefix) {
                report.optimizerState += 1
                continue
            }
            guard let symbol = [key, backbonePrefix + key].lazy.compactMap(library.symbol(named:)).first(where: \.isState) else {
                report.unexpected.append(key)
                continue
            }
            let described = key == symbol.name ? "'\(key)'" : "'\(key)' (model tensor '\(symbol.name)')"
            if let earlier = origin[symbol.name] {
                problems.append("keys '\(earlier)' and '\(key)' both load model tensor '\(symbol.name)'; keep one")
                continue
            }
            origin[symbol.name] = key
            if tensor.shape != symbol.shape {
                problems.append("\(described) has shape \(tensor.shape) in the file but \(symbol.shape) in the model")
            } else if symbol.arena == .counters && tensor.dtype != .int64 {
                problems.append("\(described) is a counter and must be I64, not \(SafeTensors.formatName(of: tensor.dtype))")
            } else if symbol.arena != .counters && tensor.dtype == .int64 {
                problems.append("\(described) is I64 in the file but a float tensor in the model")
            } else {
                writes.append((symbol.name, tensor))
                report.loaded.append(symbol.name)
            }
        }
        guard problems.isEmpty else {
            throw CompileError("--init \(source) does not fit the model (nothing loaded): " + problems.joined(separator: "; "))
        }
        guard !report.loaded.isEmpty else {
            let sample = report.unexpected.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            throw CompileError("--init \(source): none of its \(file.tensors.count) tensors matches a model tensor"
                + (sample.isEmpty ? "" : " (keys such as \(sample))")
                + "; keys must be the model's (backbone.conv1.weight) or a backbone's (conv1.weight): strip other prefixes such as 'module.' or 'encoder.' first")
        }
        let loaded = Set(report.loaded)
        report.missing = library.symbols.filter { $0.isState && !loaded.contains($0.name) }.map(\.name)
        return (writes, report)
    }
}
