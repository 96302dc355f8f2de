import SimSiamIR

/// The supervised graphs of fine-tuning, made from a model's eval-mode feature graph.
///
/// They are built from `TracedGraphs.features` rather than from DSL layers so that every
/// model the compiler takes (built in, `--model` description, `--graph` file) can be
/// fine-tuned: its backbone is whatever produces its "features" output. The backbone's
/// parameters, buffers and counters keep their state_dict names, so a SimSiam checkpoint
/// loads into them; the classifier is new state appended after them.
public enum SupervisedGraphs {
    /// The classifier's state_dict names (PyTorch `nn.Linear` called `classifier`).
    public static let classifierWeight = "classifier.weight"
    public static let classifierBias = "classifier.bias"

    /// The training graph (train-mode BN, inputs "x" [N,C,H,W] and "labels" [N] as class
    /// indices stored as floats, outputs "loss" = softmax cross-entropy and "logits" [N,K])
    /// and the eval graph (eval-mode BN, input "x", output "features" = the logits, so the
    /// library's feature entry point returns logits) of backbone + Linear(D, K).
    /// - Parameter features: an eval-mode backbone graph with one input and output
    ///   "features" [N, D], as `Workload.trace` returns it.
    /// - Throws: `CompileError` when the graph is not such a backbone or already has a classifier.
    public static func make(features: Graph, classes: Int, name: String) throws -> TracedGraphs {
        guard let output = features.outputs["features"], features.shape(of: output).rank == 2, features.inputs.count == 1 else {
            throw CompileError("the model's feature graph \(features.name) must have one input and an output \"features\" [N, D] to fine-tune it")
        }
        guard classes >= 2 else { throw CompileError("fine-tuning needs at least 2 classes, the data has \(classes)") }
        var state = features.state
        if let clash = state.parameters.first(where: { [classifierWeight, classifierBias].contains($0.name) }) {
            throw CompileError("the model already has a parameter \(clash.name); fine-tuning adds its own classifier under that name")
        }
        let dimension = features.shape(of: output)[1]
        // PyTorch's nn.Linear default initialisation, in the first optimizer group (the backbone's).
        let weight = state.parameters.count
        state.parameters.append(ParameterDecl(name: classifierWeight, shape: [classes, dimension],
                                              initializer: .uniformFanIn(fanIn: dimension), isTrainable: true, group: 0))
        state.parameters.append(ParameterDecl(name: classifierBias, shape: [classes],
                                              initializer: .uniformFanIn(fanIn: dimension), isTrainable: true, group: 0))
        return TracedGraphs(training: try graph(features, state: state, classifier: weight, training: true, name: name),
                            features: try graph(features, state: state, classifier: weight, training: false, name: name + "-eval"))
    }

    /// Copies the backbone (BN switched to training mode for the training graph), then appends
    /// the classifier and, when training, the loss.
    private static func graph(_ backbone: Graph, state: StateDecls, classifier weight: Int, training: Bool, name: String) throws -> Graph {
        var g = Graph(name: name, state: state)
        g.inputs = backbone.inputs
        let batch = backbone.inputs[0].shape[0]
        if training { g.inputs.append(InputDecl(name: "labels", shape: [batch])) }
        var values: [ValueID: ValueID] = [:]
        func inferred(_ op: Op, _ operands: [ValueID], label: String, origin: SourceLocation?) throws -> [ValueID] {
            let result = Result { () throws(ShapeError) -> [ValueID] in try g.appendInferred(op, operands, label: label, origin: origin) }
            switch result {
            case .success(let values): return values
            case .failure(let error): throw CompileError("cannot build the fine-tuning graph from \(backbone.name): \(error.message)")
            }
        }
        for node in backbone.nodes {
            var op = node.op
            if training, case .batchNorm(var attributes) = op {
                attributes.training = true
                op = .batchNorm(attributes)
            }
            let results = try inferred(op, node.operands.map { values[$0]! }, label: node.label, origin: node.origin)
            // A training BN has one more result (its saved statistics), which nothing here reads.
            for (old, new) in zip(node.results, results) { values[old] = new }
        }
        let features = values[backbone.outputs["features"]!]!
        let w = g.append(.parameter(weight), [], resultShapes: [state.parameters[weight].shape], label: classifierWeight, origin: nil)[0]
        let b = g.append(.parameter(weight + 1), [], resultShapes: [state.parameters[weight + 1].shape], label: classifierBias, origin: nil)[0]
        let logits = try inferred(.linear, [features, w, b], label: "classifier", origin: nil)[0]
        if training {
            let labels = g.append(.input(1), [], resultShapes: [[batch]], label: "labels", origin: nil)[0]
            g.outputs["loss"] = try inferred(.softmaxCrossEntropy, [logits, labels], label: "loss", origin: nil)[0]
            g.outputs["logits"] = logits
        } else {
            g.outputs["features"] = logits
        }
        try Verifier.verify(g)
        return g
    }

    /// The state_dict names the backbone reads (parameters, BN running statistics and
    /// counters): what a checkpoint must hold for fine-tuning to start from it.
    public static func backboneStateNames(_ features: Graph) -> [String] {
        var names: [String] = []
        for node in features.nodes {
            switch node.op {
            case .parameter(let index): names.append(features.state.parameters[index].name)
            case .batchNorm(let a):
                names += [features.state.buffers[a.runningMean].name, features.state.buffers[a.runningVar].name,
                          features.state.counters[a.counter].name]
            default: break
            }
        }
        return names
    }
}
