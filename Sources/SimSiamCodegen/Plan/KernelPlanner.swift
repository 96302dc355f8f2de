import SimSiamIR

/// Derives, checks and prints the kernel plan of a program: which algorithm runs each pass
/// of each convolution layer. The choices themselves are in `ConvPlanner.swift` (cost models)
/// and `ConvAlgorithmProblems.swift` (what can run); this type walks the graphs the program emits.
public enum KernelPlanner {
    /// The plan the tuned code generator follows for these graphs under `options`: one entry per
    /// labelled convolution layer and pass, in the order they first run (training step, then the
    /// feature graph), each `options.plan`'s choice where it lists one, else the cost models'.
    /// Unlabelled convolutions (a bare `conv2d` without `label:`) cannot be planned and are left out.
    public static func plan(training: Graph, features: Graph?, options: CodegenOptions) -> KernelPlan {
        KernelPlan(convolutions: rows(training: training, features: features, options: options).map(\.entry))
    }

    /// The cost models' plan, whatever `options.plan` says.
    public static func derived(training: Graph, features: Graph?, options: CodegenOptions) -> KernelPlan {
        var options = options
        options.plan = nil
        return plan(training: training, features: features, options: options)
    }

    /// Checks that every entry of `plan` names a convolution layer and pass of these graphs, once,
    /// with an algorithm that can run it at `options`' precision and vector width.
    /// - Throws: `KernelPlanError` naming the entry's layer and pass, why it cannot apply, and what can.
    public static func validate(_ plan: KernelPlan, training: Graph, features: Graph?, options: CodegenOptions) throws {
        let emitters = convolutions(training: training, features: features, options: options)
        let layers = Set(emitters.map(\.node.label))
        var seen = Set<String>()
        for entry in plan.convolutions {
            let at = "plan entry {\"layer\": \"\(entry.layer)\", \"pass\": \"\(entry.pass.rawValue)\"}"
            guard layers.contains(entry.layer) else {
                let known = layers.sorted().prefix(6).joined(separator: ", ")
                throw KernelPlanError("\(at): \(training.name) has no convolution layer \"\(entry.layer)\"; its layers are \(known)\(layers.count > 6 ? ", ..." : "") (`simsiamc compile` prints them all)")
            }
            guard seen.insert("\(entry.layer)/\(entry.pass.rawValue)").inserted else {
                throw KernelPlanError("\(at): listed twice; keep one entry per layer and pass")
            }
            let nodes = emitters.filter { $0.node.label == entry.layer && $0.convPass == entry.pass }
            guard !nodes.isEmpty else {
                throw KernelPlanError("\(at): layer \(entry.layer) has no \(entry.pass.rawValue) pass in this step (its input needs no gradient, or the pass is pruned); remove the entry")
            }
            for emitter in nodes {
                if let problem = emitter.convAlgorithmProblem(entry.algorithm) {
                    let possible = ConvAlgorithm.allCases.filter { emitter.convAlgorithmProblem($0) == nil }.map(\.rawValue)
                    throw KernelPlanError("\(at): \(entry.algorithm.rawValue) cannot run it: \(problem); choose one of \(possible.joined(separator: ", "))")
                }
                if let bf16 = entry.bf16 {
                    guard options.operands.isBF16 else {
                        throw KernelPlanError("\(at): \"bf16\" applies to bfloat16 builds only; remove it or compile with --precision bf16")
                    }
                    if bf16, !KernelEmitter.hasBF16Kernel(entry.algorithm, pass: entry.pass) {
                        throw KernelPlanError("\(at): \(entry.algorithm.rawValue) has no bfloat16 \(entry.pass.rawValue) kernel; bfloat16 passes run packed, Winograd or channels-last (or set \"bf16\": false)")
                    }
                }
                if let tiles = entry.tilesPerBlock {
                    guard emitter.derivedTilesPerBlock(entry.algorithm) != nil else {
                        throw KernelPlanError("\(at): tilesPerBlock applies to Winograd passes only, not \(entry.algorithm.rawValue); remove it")
                    }
                    let rows = emitter.tile.rows
                    guard tiles % rows == 0, (rows...Self.maximumTilesPerBlock).contains(tiles) else {
                        throw KernelPlanError("\(at): tilesPerBlock \(tiles) must be a multiple of \(rows) (the register tile's rows at \(options.vectorWidth.rawValue)) from \(rows) to \(Self.maximumTilesPerBlock)")
                    }
                }
                if entry.threadSplit != nil, emitter.derivedThreadSplit(entry.algorithm) == nil {
                    throw KernelPlanError("\(at): threadSplit applies to packed dw passes only, not \(entry.algorithm.rawValue) \(entry.pass.rawValue); remove it")
                }
                guard let images = entry.imagesPerPass else { continue }
                guard emitter.derivedImagesPerPass(entry.algorithm) != nil else {
                    throw KernelPlanError("\(at): \(entry.algorithm.rawValue) has no imagesPerPass (the in-place forward and dx run one image at a time, packed GEMMs the whole batch); remove it")
                }
                let batch = emitter.shape(operand: 0)[0]
                guard (1...batch).contains(images) else {
                    throw KernelPlanError("\(at): imagesPerPass \(images) is outside 1...\(batch) (the batch of this pass)")
                }
            }
        }
    }

    /// The largest `tilesPerBlock` a plan may ask for: a block's transformed inputs and products
    /// (16 points x tiles x channels each) are per-thread buffers.
    public static let maximumTilesPerBlock = 512

    /// The plan as a compact table, one line per layer: the convolution, then the algorithm of each
    /// pass ("-": the step has no such pass), its images per pass ("x4"), Winograd's tiles per
    /// block ("/48") and a packed dw's thread split ("k-blocks" when not by columns), marked `*`
    /// where any of them is not the cost models' choice.
    public static func table(training: Graph, features: Graph?, options: CodegenOptions) -> String {
        let rows = rows(training: training, features: features, options: options)
        var layers: [String] = []
        var cells: [String: (shape: String, passes: [ConvPass: String])] = [:]
        for row in rows {
            if cells[row.entry.layer] == nil { layers.append(row.entry.layer) }
            var cell = cells[row.entry.layer] ?? (row.shape, [:])
            cell.passes[row.entry.pass] = row.entry.algorithm.rawValue + (row.entry.imagesPerPass.map { " x\($0)" } ?? "")
                + (row.entry.tilesPerBlock.map { "/\($0)" } ?? "") + (row.entry.threadSplit == .kBlocks ? " k-blocks" : "")
                + (row.entry.bf16 == true ? " bf16" : "")
                + (row.derived == row.entry ? "" : "*")
            cells[row.entry.layer] = cell
        }
        let header = ["layer", "convolution", "forward", "dx", "dw"]
        let body = layers.map { layer in
            [layer, cells[layer]!.shape] + ConvPass.allCases.map { cells[layer]!.passes[$0] ?? "-" }
        }
        let widths = header.indices.map { column in ([header] + body).map { $0[column].count }.max()! }
        func line(_ row: [String]) -> String {
            // The last column unpadded: no trailing blanks.
            row.enumerated().map { $0 == row.count - 1 ? $1 : $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header)] + body.map(line)).joined(separator: "\n")
    }

    /// One planned layer and pass: its entry, the cost models' choice, and the convolution in words.
    private struct Row {
        var entry: ConvPlanEntry
        /// The entry the cost models would write.
        var derived: ConvPlanEntry
        var shape: String
    }

    private static func rows(training: Graph, features: Graph?, options: CodegenOptions) -> [Row] {
        var rows: [Row] = []
        var seen = Set<String>()
        for emitter in convolutions(training: training, features: features, options: options) {
            let pass = emitter.convPass!
            guard seen.insert("\(emitter.node.label)/\(pass.rawValue)").inserted else { continue }
            let algorithm = emitter.convAlgorithm(), derived = emitter.derivedConvAlgorithm()
            let images = emitter.derivedImagesPerPass(algorithm) != nil ? emitter.imagesPerPass() : nil
            let bf16 = options.operands.isBF16
            rows.append(Row(entry: ConvPlanEntry(layer: emitter.node.label, pass: pass, algorithm: algorithm, imagesPerPass: images,
                                                 bf16: bf16 ? emitter.convRunsBF16() : nil,
                                                 tilesPerBlock: algorithm.isWinograd ? emitter.tilesPerBlock() : nil,
                                                 threadSplit: emitter.derivedThreadSplit(algorithm) != nil ? emitter.threadSplit() : nil),
                            derived: derivedEntry(emitter, algorithm: derived),
                            shape: describe(emitter)))
        }
        return rows
    }

    /// The entry the cost models would write for this node: every choice theirs.
    private static func derivedEntry(_ emitter: KernelEmitter, algorithm: ConvAlgorithm) -> ConvPlanEntry {
        var unplanned = emitter
        unplanned.plan = nil
        return ConvPlanEntry(layer: emitter.node.label, pass: emitter.convPass!, algorithm: algorithm,
                             imagesPerPass: unplanned.derivedImagesPerPass(algorithm),
                             bf16: emitter.operands.isBF16 ? unplanned.derivedConvBF16(algorithm) : nil,
                             tilesPerBlock: unplanned.derivedTilesPerBlock(algorithm), threadSplit: unplanned.derivedThreadSplit(algorithm))
    }

    /// "32x14x14 -> 64, 3x3/2": input channels and map, output channels, kernel and stride.
    static func describe(_ emitter: KernelEmitter) -> String {
        let (x, w): (Shape, Shape) = switch emitter.convPass! {
        case .forward: (emitter.shape(operand: 0), emitter.shape(operand: 1))
        case .dx: (emitter.shape(result: 0), emitter.shape(operand: 1))
        case .dw: (emitter.shape(operand: 1), emitter.shape(result: 0))
        }
        return "\(x[1])x\(x[2])x\(x[3]) -> \(w[0]), \(w[2])x\(w[3])/\(emitter.convGeometry!.stride)"
    }

    /// The emitters of the labelled convolution nodes of both graphs, as `ProgramEmitter` makes them.
    static func convolutions(training: Graph, features: Graph?, options: CodegenOptions) -> [KernelEmitter] {
        allConvolutions(training: training, features: features, options: options).filter { !$0.node.label.isEmpty }
    }

    /// The emitters of every convolution node of both graphs, labelled or not (unlabelled ones follow
    /// the cost models), as `ProgramEmitter` makes them; none unless the kernels are tuned.
    static func allConvolutions(training: Graph, features: Graph?, options: CodegenOptions) -> [KernelEmitter] {
        guard options.kernels == .tuned else { return [] }
        return ([training] + (features.map { [$0] } ?? [])).flatMap { graph in
            graph.nodes.compactMap { node -> KernelEmitter? in
                let emitter = KernelEmitter(node: node, graph: graph, precision: options.precision, strategy: options.kernels,
                                            vectorWidth: options.vectorWidth, plan: options.plan, operands: options.operands)
                return emitter.convPass != nil ? emitter : nil
            }
        }
    }
}
