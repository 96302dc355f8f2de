import SimSiamIR

/// What autodiff did, for the compile summary.
public struct AutodiffSummary: Hashable, Sendable {
    public var forwardOps: Int
    public var backwardOps: Int
    /// Backward ops that would exist if stop-gradient were the identity.
    public var prunedByStopGradient: Int
}

/// An error of differentiation, naming the graph output or op at fault.
public struct AutodiffError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "autodiff: \(message)" }
}

/// Reverse-mode autodiff over a forward graph with a scalar output.
///
/// Only values on a path from a trainable parameter to the loss get a
/// cotangent, so nothing is emitted for what a stop-gradient cuts off or for
/// frozen parameters (tinygrad's "don't flow through DETACH" walk). Parameter
/// cotangents become `accumulate_grad` nodes, one per use, so a parameter
/// shared by both views sums its gradients in the gradient arena.
public enum Autodiff {
    public static func differentiate(_ forward: Graph, loss: String = "loss") throws -> (Graph, AutodiffSummary) {
        guard let lossValue = forward.outputs[loss] else {
            throw AutodiffError(message: "the graph has no output \"\(loss)\"; outputs: \(forward.outputs.keys.sorted())")
        }
        guard forward.shape(of: lossValue).rank == 0 else {
            throw AutodiffError(message: "output \"\(loss)\" must be a scalar, it has shape \(forward.shape(of: lossValue))")
        }
        var graph = forward
        try appendBackward(to: &graph, loss: lossValue, stopGradientIsIdentity: false)
        var withoutCut = forward
        try appendBackward(to: &withoutCut, loss: lossValue, stopGradientIsIdentity: true)
        let summary = AutodiffSummary(
            forwardOps: forward.computeNodeCount(.forward),
            backwardOps: graph.computeNodeCount(.backward),
            prunedByStopGradient: withoutCut.computeNodeCount(.backward) - graph.computeNodeCount(.backward))
        try Verifier.verify(graph)
        return (graph, summary)
    }

    static func appendBackward(to graph: inout Graph, loss: ValueID, stopGradientIsIdentity: Bool) throws {
        let forwardNodes = graph.nodes
        func differentiable(_ node: Node, _ operand: Int) -> Bool {
            if case .stopGradient = node.op { return stopGradientIsIdentity }
            return VJPRules.isDifferentiable(node.op, operand: operand)
        }

        // Values that depend on a trainable parameter through differentiable ops.
        var dependsOnParameter = Set<ValueID>()
        for node in forwardNodes {
            if case .parameter(let index) = node.op, graph.state.parameters[index].isTrainable {
                dependsOnParameter.insert(node.results[0])
            } else if node.operands.indices.contains(where: { differentiable(node, $0) && dependsOnParameter.contains(node.operands[$0]) }) {
                dependsOnParameter.insert(node.results[0])
            }
        }
        // Values the loss depends on through differentiable ops.
        var reachesLoss: Set<ValueID> = [loss]
        for node in forwardNodes.reversed() where reachesLoss.contains(node.results.first ?? ValueID(-1)) {
            for (index, operand) in node.operands.enumerated() where differentiable(node, index) {
                reachesLoss.insert(operand)
            }
        }
        let needsCotangent = dependsOnParameter.intersection(reachesLoss)
        guard needsCotangent.contains(loss) else {
            throw AutodiffError(message: "the loss does not depend on any trainable parameter")
        }

        var cotangents: [ValueID: ValueID] = [:]
        var current: Node?
        func emit(_ op: Op, _ operands: [ValueID]) -> ValueID {
            let node = current!
            // The rules only build well-shaped ops from verified forward shapes.
            let results = try! graph.appendInferred(op, operands, label: node.label, origin: node.origin, phase: .backward)
            return results.first ?? ValueID(-1)
        }

        current = graph.producer(of: loss)
        cotangents[loss] = emit(.fill(1, []), [])
        for node in forwardNodes.reversed() {
            guard let result = node.results.first, let dy = cotangents[result], needsCotangent.contains(result) else { continue }
            current = node
            for (index, operand) in node.operands.enumerated()
            where differentiable(node, index) && needsCotangent.contains(operand) {
                let contribution = VJPRules.operandCotangent(of: node, operand: index, dy: dy, graph: graph, emit: emit)
                if case .parameter = graph.producer(of: operand).op {
                    _ = emit(.accumulateGradient(parameter: parameterIndex(of: operand, in: graph)), [contribution])
                } else if let existing = cotangents[operand] {
                    cotangents[operand] = emit(.add, [existing, contribution])
                } else {
                    cotangents[operand] = contribution
                }
            }
        }
    }

    static func parameterIndex(of value: ValueID, in graph: Graph) -> Int {
        guard case .parameter(let index) = graph.producer(of: value).op else { preconditionFailure("\(value) is not a parameter") }
        return index
    }
}
