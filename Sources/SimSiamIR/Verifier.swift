/// A broken invariant of a graph, naming the node at fault.
public struct VerificationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var nodeIndex: Int?
    public var message: String
    public var description: String {
        if let nodeIndex { "graph verification failed at node #\(nodeIndex): \(message)" } else { "graph verification failed: \(message)" }
    }
}

/// Checks the invariants every pass relies on: values defined exactly once
/// and before use, result shapes equal to the shape rules' answer, outputs
/// defined, and every parameter's gradient accumulated with its own shape.
public enum Verifier {
    public static func verify(_ graph: Graph) throws(VerificationError) {
        var defined = Set<ValueID>()
        for (index, node) in graph.nodes.enumerated() {
            for operand in node.operands where !defined.contains(operand) {
                throw VerificationError(nodeIndex: index, message: "\(node.op.mnemonic) [\(node.label)] uses \(operand) before it is defined")
            }
            for result in node.results {
                guard graph.values.indices.contains(result.index), graph.values[result.index].producer == index else {
                    throw VerificationError(nodeIndex: index, message: "\(node.op.mnemonic) [\(node.label)] result \(result) is not recorded as its own")
                }
                guard defined.insert(result).inserted else {
                    throw VerificationError(nodeIndex: index, message: "\(result) is defined twice")
                }
            }
            let expected: [Shape]
            do {
                expected = try ShapeInference.resultShapes(
                    of: node.op, operands: node.operands.map(graph.shape(of:)), state: graph.state, inputs: graph.inputs)
            } catch {
                throw VerificationError(nodeIndex: index, message: "[\(node.label)] \(error.message)")
            }
            let actual = node.results.map(graph.shape(of:))
            guard expected == actual else {
                throw VerificationError(
                    nodeIndex: index,
                    message: "\(node.op.mnemonic) [\(node.label)] results have shapes \(actual), the shape rule says \(expected)")
            }
        }
        for (name, value) in graph.outputs.sorted(by: { $0.key < $1.key }) where !defined.contains(value) {
            throw VerificationError(nodeIndex: nil, message: "output \"\(name)\" refers to undefined \(value)")
        }
        for (index, parameter) in graph.state.parameters.enumerated() where !graph.state.groups.indices.contains(parameter.group) {
            throw VerificationError(nodeIndex: nil, message: "parameter #\(index) \(parameter.name) is in undeclared optimizer group \(parameter.group)")
        }
    }
}
