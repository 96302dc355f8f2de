/// Why an op cannot be applied to its operands.
public struct ShapeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The shape rule of every op: result shapes from operand shapes, or an
/// error that names the op and the shapes that disagree.
public enum ShapeInference {
    public static func resultShapes(
        of op: Op, operands: [Shape], state: StateDecls, inputs: [InputDecl]
    ) throws(ShapeError) -> [Shape] {
        func expectOperands(_ counts: ClosedRange<Int>) throws(ShapeError) {
            guard counts.contains(operands.count) else {
                throw ShapeError("\(op.mnemonic) takes \(counts.lowerBound == counts.upperBound ? "\(counts.lowerBound)" : "\(counts.lowerBound)-\(counts.upperBound)") operands, got \(operands.count)")
            }
        }
        func expectRank(_ shape: Shape, _ ranks: Set<Int>, _ what: String) throws(ShapeError) {
            guard ranks.contains(shape.rank) else {
                throw ShapeError("\(op.mnemonic): \(what) must have rank \(ranks.sorted().map(String.init).joined(separator: " or ")), got \(shape)")
            }
        }
        func expectSame(_ a: Shape, _ b: Shape, _ what: String) throws(ShapeError) {
            guard a == b else { throw ShapeError("\(op.mnemonic): \(what) differ: \(a) vs \(b)") }
        }

        switch op {
        case .input(let index):
            try expectOperands(0...0)
            guard inputs.indices.contains(index) else { throw ShapeError("input #\(index) is not declared") }
            return [inputs[index].shape]
        case .parameter(let index):
            try expectOperands(0...0)
            guard state.parameters.indices.contains(index) else { throw ShapeError("parameter #\(index) is not declared") }
            return [state.parameters[index].shape]
        case .fill(_, let shape):
            try expectOperands(0...0)
            return [shape]

        case .conv2d(let stride, let padding, let moments):
            try expectOperands(2...2)
            let x = operands[0], w = operands[1]
            try expectRank(x, [4], "input")
            try expectRank(w, [4], "weight")
            guard x[1] == w[1] else {
                throw ShapeError("conv2d: input has \(x[1]) channels but weight \(w) expects \(w[1]); input \(x)")
            }
            guard w[2] == w[3] else { throw ShapeError("conv2d: only square kernels are supported, weight \(w)") }
            guard stride >= 1, padding >= 0 else { throw ShapeError("conv2d: stride \(stride) / padding \(padding) out of range") }
            let outH = (x[2] + 2 * padding - w[2]) / stride + 1
            let outW = (x[3] + 2 * padding - w[3]) / stride + 1
            guard outH > 0, outW > 0 else { throw ShapeError("conv2d: kernel \(w) does not fit input \(x) with padding \(padding)") }
            return [[x[0], w[0], outH, outW]] + (moments ? [[2, w[0]]] : [])

        case .batchNorm(let attributes):
            let count = (attributes.affine ? 3 : 1) + (attributes.fusedResidual ? 1 : 0) + (attributes.momentsOperand ? 1 : 0)
            try expectOperands(count...count)
            let x = operands[0]
            try expectRank(x, [2, 4], "input")
            if attributes.fusedResidual {
                guard attributes.fusedReLU else { throw ShapeError("batch norm: a fused residual add needs the fused ReLU after it") }
                try expectSame(operands[count - (attributes.momentsOperand ? 2 : 1)], x, "the residual and the input")
            }
            let channels = x[1]
            if attributes.momentsOperand {
                guard attributes.training else { throw ShapeError("batch norm: batch statistics as an operand need training mode") }
                try expectSame(operands[count - 1], [2, channels], "the batch statistics operand and the input's channel count")
            }
            if attributes.affine {
                try expectSame(operands[1], [channels], "gamma and the input's channel count")
                try expectSame(operands[2], [channels], "beta and the input's channel count")
            }
            for index in [attributes.runningMean, attributes.runningVar] {
                guard state.buffers.indices.contains(index) else { throw ShapeError("batch norm: buffer #\(index) is not declared") }
                try expectSame(state.buffers[index].shape, [channels], "running statistics and the input's channel count")
            }
            guard state.counters.indices.contains(attributes.counter) else {
                throw ShapeError("batch norm: counter #\(attributes.counter) is not declared")
            }
            return attributes.training ? [x, [2, channels]] : [x]

        case .relu, .scale, .stopGradient:
            try expectOperands(1...1)
            return [operands[0]]
        case .reshape(let shape):
            try expectOperands(1...1)
            guard shape.elementCount == operands[0].elementCount else {
                throw ShapeError("reshape: \(operands[0]) has \(operands[0].elementCount) elements, \(shape) has \(shape.elementCount)")
            }
            return [shape]
        case .add:
            try expectOperands(2...2)
            try expectSame(operands[0], operands[1], "operand shapes")
            return [operands[0]]
        case .globalAveragePool:
            try expectOperands(1...1)
            try expectRank(operands[0], [4], "input")
            return [[operands[0][0], operands[0][1]]]
        case .linear:
            try expectOperands(2...3)
            let x = operands[0], w = operands[1]
            try expectRank(x, [2], "input")
            try expectRank(w, [2], "weight")
            guard x[1] == w[1] else { throw ShapeError("linear: input \(x) has \(x[1]) features but weight \(w) expects \(w[1])") }
            if operands.count == 3 { try expectSame(operands[2], [w[0]], "bias and the weight's output size") }
            return [[x[0], w[0]]]
        case .cosineSimilarity, .crossEntropySimilarity:
            try expectOperands(2...2)
            try expectRank(operands[0], [2], "operand")
            try expectSame(operands[0], operands[1], "operand shapes")
            return [[operands[0][0]]]
        case .mean:
            try expectOperands(1...1)
            return [[]]
        case .maxPool2d(let kernel, let stride, let padding):
            try expectOperands(1...1)
            try expectRank(operands[0], [4], "input")
            return [try maxPoolOutput(operands[0], kernel: kernel, stride: stride, padding: padding)]
        case .channelBias:
            try expectOperands(2...2)
            try expectRank(operands[0], [2, 4], "input")
            try expectSame(operands[1], [operands[0][1]], "bias and the input's channel count")
            return [operands[0]]
        case .softmaxCrossEntropy:
            try expectOperands(2...2)
            try expectRank(operands[0], [2], "logits")
            try expectSame(operands[1], [operands[0][0]], "labels and the logits' batch")
            return [[]]

        case .conv2dBackwardData(let stride, let padding, let height, let width, let accumulates):
            try expectOperands(accumulates ? 3...3 : 2...2)
            let dy = operands[0], w = operands[1]
            try expectRank(dy, [4], "output gradient")
            try expectRank(w, [4], "weight")
            guard dy[1] == w[0] else { throw ShapeError("conv2d_bwd_data: output gradient \(dy) and weight \(w) disagree") }
            guard (height + 2 * padding - w[2]) / stride + 1 == dy[2], (width + 2 * padding - w[3]) / stride + 1 == dy[3] else {
                throw ShapeError("conv2d_bwd_data: input size \(height)x\(width) does not produce output gradient \(dy)")
            }
            let dx: Shape = [dy[0], w[1], height, width]
            if accumulates { try expectSame(operands[2], dx, "the added gradient and dx") }
            return [dx]
        case .conv2dBackwardWeight(_, _, let kernel):
            try expectOperands(2...2)
            let dy = operands[0], x = operands[1]
            try expectRank(dy, [4], "output gradient")
            try expectRank(x, [4], "input")
            guard dy[0] == x[0] else { throw ShapeError("conv2d_bwd_weight: batch of \(dy) and \(x) differ") }
            return [[dy[1], x[1], kernel, kernel]]
        case .batchNormBackwardData(let affine):
            try expectOperands(affine ? 4...4 : 3...3)
            try expectSame(operands[0], operands[1], "output gradient and input")
            try expectSame(operands[2], [2, operands[1][1]], "saved statistics and channel count")
            return [operands[1]]
        case .batchNormBackward(let mask):
            try expectOperands(mask ? 5...5 : 4...4)
            try expectSame(operands[0], operands[1], "output gradient and input")
            try expectSame(operands[2], [2, operands[1][1]], "saved statistics and channel count")
            try expectSame(operands[3], [operands[1][1]], "gamma and channel count")
            if mask { try expectSame(operands[4], operands[1], "ReLU output and input") }
            return [operands[1], [operands[1][1]], [operands[1][1]]]
        case .batchNormBackwardGamma:
            try expectOperands(3...3)
            try expectSame(operands[0], operands[1], "output gradient and input")
            return [[operands[1][1]]]
        case .batchNormBackwardBeta:
            try expectOperands(1...1)
            try expectRank(operands[0], [2, 4], "output gradient")
            return [[operands[0][1]]]
        case .batchNormBackwardRecomputing:
            try expectOperands(5...5)
            try expectSame(operands[0], operands[1], "output gradient and input")
            try expectSame(operands[2], [2, operands[1][1]], "saved statistics and channel count")
            try expectSame(operands[3], [operands[1][1]], "gamma and channel count")
            try expectSame(operands[4], [operands[1][1]], "beta and channel count")
            return [operands[1], [operands[1][1]], [operands[1][1]], operands[1]]
        case .reluBackward:
            try expectOperands(2...2)
            try expectSame(operands[0], operands[1], "gradient and output")
            return [operands[0]]
        case .globalAveragePoolBackward(let height, let width):
            try expectOperands(1...1)
            try expectRank(operands[0], [2], "output gradient")
            return [[operands[0][0], operands[0][1], height, width]]
        case .linearBackwardData:
            try expectOperands(2...2)
            guard operands[0].rank == 2, operands[1].rank == 2, operands[0][1] == operands[1][0] else {
                throw ShapeError("linear_bwd_data: output gradient \(operands[0]) and weight \(operands[1]) disagree")
            }
            return [[operands[0][0], operands[1][1]]]
        case .linearBackwardWeight:
            try expectOperands(2...2)
            guard operands[0].rank == 2, operands[1].rank == 2, operands[0][0] == operands[1][0] else {
                throw ShapeError("linear_bwd_weight: output gradient \(operands[0]) and input \(operands[1]) disagree")
            }
            return [[operands[0][1], operands[1][1]]]
        case .linearBackwardBias:
            try expectOperands(1...1)
            try expectRank(operands[0], [2], "output gradient")
            return [[operands[0][1]]]
        case .cosineSimilarityBackward(_, let wrt):
            try expectOperands(3...3)
            guard wrt == 0 || wrt == 1 else { throw ShapeError("cosine_similarity_bwd: operand \(wrt) does not exist") }
            try expectSame(operands[1], operands[2], "operand shapes")
            try expectSame(operands[0], [operands[1][0]], "gradient and batch")
            return [operands[1]]
        case .crossEntropySimilarityBackward(let wrt):
            try expectOperands(3...3)
            guard wrt == 0 || wrt == 1 else { throw ShapeError("cross_entropy_similarity_bwd: operand \(wrt) does not exist") }
            try expectRank(operands[1], [2], "operand")
            try expectSame(operands[1], operands[2], "operand shapes")
            try expectSame(operands[0], [operands[1][0]], "gradient and batch")
            return [operands[1]]
        case .maxPool2dBackward(let kernel, let stride, let padding):
            try expectOperands(2...2)
            let dy = operands[0], x = operands[1]
            try expectRank(x, [4], "input")
            try expectSame(dy, try maxPoolOutput(x, kernel: kernel, stride: stride, padding: padding), "output gradient and pooled input")
            return [x]
        case .channelBiasBackward:
            try expectOperands(1...1)
            try expectRank(operands[0], [2, 4], "output gradient")
            return [[operands[0][1]]]
        case .softmaxCrossEntropyBackward:
            try expectOperands(3...3)
            try expectSame(operands[0], [], "gradient of the loss (a scalar)")
            try expectRank(operands[1], [2], "logits")
            try expectSame(operands[2], [operands[1][0]], "labels and the logits' batch")
            return [operands[1]]
        case .meanBackward(let shape):
            try expectOperands(1...1)
            try expectSame(operands[0], [], "gradient of a mean (a scalar)")
            return [shape]
        case .accumulateGradient(let index):
            try expectOperands(1...1)
            guard state.parameters.indices.contains(index) else { throw ShapeError("accumulate_grad: parameter #\(index) is not declared") }
            try expectSame(operands[0], state.parameters[index].shape, "gradient and parameter \(state.parameters[index].name)")
            return []
        }
    }

    /// PyTorch's MaxPool2d output size (floor mode). Padding is at most half the kernel, as
    /// PyTorch requires, so every window holds at least one element of x.
    static func maxPoolOutput(_ x: Shape, kernel: Int, stride: Int, padding: Int) throws(ShapeError) -> Shape {
        guard kernel >= 1, stride >= 1, padding >= 0, padding <= kernel / 2 else {
            throw ShapeError("max_pool2d: kernel \(kernel), stride \(stride), padding \(padding) out of range for input \(x) (padding at most kernel / 2)")
        }
        let outH = (x[2] + 2 * padding - kernel) / stride + 1
        let outW = (x[3] + 2 * padding - kernel) / stride + 1
        guard x[2] + 2 * padding >= kernel, x[3] + 2 * padding >= kernel else {
            throw ShapeError("max_pool2d: kernel \(kernel) does not fit input \(x) with padding \(padding)")
        }
        return [x[0], x[1], outH, outW]
    }
}
