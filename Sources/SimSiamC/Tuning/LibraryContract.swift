/// What an edited library must keep from the generated one so that the runtime
/// can drive it: batch, scalar type, arena sizes of the state, inputs, optimizer
/// groups, feature width and every symbol-table row. The workspace size may
/// change (an edit may need more scratch).
enum LibraryContract {
    /// The first difference between `edited` and `generated`, worded for the user; nil if none.
    static func firstDifference(_ edited: ModelLibrary, _ generated: ModelLibrary) -> String? {
        let scalars: [(String, Int, Int)] = [
            ("batch (simsiam_batch)", edited.batch, generated.batch),
            ("scalar bytes (simsiam_scalar_bytes)", edited.scalarBytes, generated.scalarBytes),
            ("params arena elements", edited.paramsCount, generated.paramsCount),
            ("buffers arena elements", edited.buffersCount, generated.buffersCount),
            ("counters arena elements", edited.countersCount, generated.countersCount),
            ("inputs", edited.inputCount, generated.inputCount),
            ("feature width (simsiam_feature_dim)", edited.featureDim, generated.featureDim),
            ("symbols (simsiam_symbol_count)", edited.symbols.count, generated.symbols.count),
        ]
        for (what, got, expected) in scalars where got != expected {
            return "\(what) is \(got) in the edited C but \(expected) in the graph's"
        }
        if edited.groupNames != generated.groupNames {
            return "optimizer groups are \(edited.groupNames) in the edited C but \(generated.groupNames) in the graph's"
        }
        for (index, (got, expected)) in zip(edited.symbols, generated.symbols).enumerated() where got != expected {
            return "symbol \(index) is \(describe(got)) in the edited C but \(describe(expected)) in the graph's"
        }
        return nil
    }

    static func describe(_ symbol: TensorSymbol) -> String {
        "'\(symbol.name)' (\(symbol.arena), \(symbol.kind), group \(symbol.group.map(String.init) ?? "-"), offset \(symbol.offset), shape \(symbol.shape))"
    }
}
