import Testing
@testable import SimSiamIR

@Suite struct ShapeInferenceTests {
    let state = StateDecls()

    func shapes(_ op: Op, _ operands: [Shape]) throws -> [Shape] {
        try ShapeInference.resultShapes(of: op, operands: operands, state: state, inputs: [])
    }

    @Test func convolutionOutputSizeFollowsStrideAndPadding() throws {
        #expect(try shapes(.conv2d(stride: 1, padding: 1), [[2, 3, 32, 32], [64, 3, 3, 3]]) == [[2, 64, 32, 32]])
        #expect(try shapes(.conv2d(stride: 2, padding: 1), [[2, 32, 28, 28], [64, 32, 3, 3]]) == [[2, 64, 14, 14]])
        #expect(try shapes(.conv2d(stride: 2, padding: 0), [[2, 32, 28, 28], [64, 32, 1, 1]]) == [[2, 64, 14, 14]])
    }

    @Test func channelMismatchNamesBothShapes() {
        #expect {
            try shapes(.conv2d(stride: 1, padding: 1), [[2, 3, 32, 32], [64, 1, 3, 3]])
        } throws: { error in
            let text = "\(error)"
            return text.contains("conv2d") && text.contains("[64,1,3,3]") && text.contains("[2,3,32,32]")
        }
    }

    @Test func backwardShapesInvertForwardShapes() throws {
        #expect(try shapes(.conv2dBackwardData(stride: 2, padding: 1, inputHeight: 28, inputWidth: 28), [[2, 64, 14, 14], [64, 32, 3, 3]]) == [[2, 32, 28, 28]])
        #expect(try shapes(.conv2dBackwardWeight(stride: 2, padding: 1, kernel: 3), [[2, 64, 14, 14], [2, 32, 28, 28]]) == [[64, 32, 3, 3]])
        #expect(try shapes(.linearBackwardWeight, [[8, 16], [8, 4]]) == [[16, 4]])
        #expect(throws: ShapeError.self) {
            try shapes(.conv2dBackwardData(stride: 2, padding: 1, inputHeight: 30, inputWidth: 28), [[2, 64, 14, 14], [64, 32, 3, 3]])
        }
    }

    @Test func maxPoolFollowsPyTorchsFloorModeAndPaddingLimit() throws {
        // torchvision's stem pool on a 112x112 map, and odd sizes rounding down.
        #expect(try shapes(.maxPool2d(kernel: 3, stride: 2, padding: 1), [[2, 64, 112, 112]]) == [[2, 64, 56, 56]])
        #expect(try shapes(.maxPool2d(kernel: 3, stride: 2, padding: 1), [[1, 2, 7, 6]]) == [[1, 2, 4, 3]])
        #expect(try shapes(.maxPool2d(kernel: 2, stride: 2, padding: 0), [[1, 2, 5, 5]]) == [[1, 2, 2, 2]])
        #expect(try shapes(.maxPool2dBackward(kernel: 3, stride: 2, padding: 1), [[1, 2, 4, 3], [1, 2, 7, 6]]) == [[1, 2, 7, 6]])
        #expect {
            try shapes(.maxPool2d(kernel: 3, stride: 2, padding: 2), [[1, 2, 8, 8]])
        } throws: { "\($0)".contains("max_pool2d") && "\($0)".contains("padding 2") }
        #expect {
            try shapes(.maxPool2d(kernel: 5, stride: 1, padding: 0), [[1, 2, 4, 8]])
        } throws: { "\($0)".contains("max_pool2d") && "\($0)".contains("[1,2,4,8]") }
        #expect(throws: ShapeError.self) { try shapes(.maxPool2d(kernel: 2, stride: 2, padding: 0), [[4, 8]]) }
        #expect(throws: ShapeError.self) {
            try shapes(.maxPool2dBackward(kernel: 3, stride: 2, padding: 1), [[1, 2, 3, 3], [1, 2, 7, 6]])
        }
    }

    @Test func channelBiasNeedsOneValuePerChannel() throws {
        #expect(try shapes(.channelBias, [[2, 8, 5, 5], [8]]) == [[2, 8, 5, 5]])
        #expect(try shapes(.channelBias, [[2, 8], [8]]) == [[2, 8]])
        #expect(try shapes(.channelBiasBackward, [[2, 8, 5, 5]]) == [[8]])
        #expect {
            try shapes(.channelBias, [[2, 8, 5, 5], [4]])
        } throws: { "\($0)".contains("bias_add") && "\($0)".contains("[4]") && "\($0)".contains("[8]") }
    }

    @Test func softmaxCrossEntropyTakesOneLabelPerRow() throws {
        #expect(try shapes(.softmaxCrossEntropy, [[4, 10], [4]]) == [[]])
        #expect(try shapes(.softmaxCrossEntropyBackward, [[], [4, 10], [4]]) == [[4, 10]])
        #expect {
            try shapes(.softmaxCrossEntropy, [[4, 10], [3]])
        } throws: { "\($0)".contains("softmax_cross_entropy") && "\($0)".contains("labels") && "\($0)".contains("[3]") }
        #expect(throws: ShapeError.self) { try shapes(.softmaxCrossEntropy, [[4, 10, 1, 1], [4]]) }
        #expect(throws: ShapeError.self) { try shapes(.softmaxCrossEntropyBackward, [[1], [4, 10], [4]]) }
    }

    @Test func linearAndCosineRules() throws {
        #expect(try shapes(.linear, [[4, 8], [16, 8], [16]]) == [[4, 16]])
        #expect(throws: ShapeError.self) { try shapes(.linear, [[4, 8], [16, 7]]) }
        #expect(try shapes(.cosineSimilarity(epsilon: 1e-8), [[4, 8], [4, 8]]) == [[4]])
        #expect(try shapes(.mean, [[4]]) == [[]])
    }

    @Test func crossEntropySimilarityRules() throws {
        #expect(try shapes(.crossEntropySimilarity, [[4, 8], [4, 8]]) == [[4]])
        #expect(try shapes(.crossEntropySimilarityBackward(wrt: 0), [[4], [4, 8], [4, 8]]) == [[4, 8]])
        #expect(try shapes(.crossEntropySimilarityBackward(wrt: 1), [[4], [4, 8], [4, 8]]) == [[4, 8]])
        #expect(Op.crossEntropySimilarity.mnemonic == "cross_entropy_similarity")
        #expect(Op.crossEntropySimilarityBackward(wrt: 0).mnemonic == "cross_entropy_similarity_bwd_p")
        #expect(Op.crossEntropySimilarityBackward(wrt: 1).mnemonic == "cross_entropy_similarity_bwd_z")
        #expect {
            try shapes(.crossEntropySimilarity, [[4, 8], [4, 7]])
        } throws: { error in
            let text = "\(error)"
            return text.contains("cross_entropy_similarity") && text.contains("[4,8]") && text.contains("[4,7]")
        }
        #expect(throws: ShapeError.self) { try shapes(.crossEntropySimilarity, [[4, 8, 2], [4, 8, 2]]) }
        #expect(throws: ShapeError.self) { try shapes(.crossEntropySimilarity, [[4, 8]]) }
        #expect(throws: ShapeError.self) { try shapes(.crossEntropySimilarityBackward(wrt: 2), [[4], [4, 8], [4, 8]]) }
        #expect(throws: ShapeError.self) { try shapes(.crossEntropySimilarityBackward(wrt: 0), [[3], [4, 8], [4, 8]]) }
        #expect(throws: ShapeError.self) { try shapes(.crossEntropySimilarityBackward(wrt: 1), [[4], [4, 8], [4, 9]]) }
    }
}
