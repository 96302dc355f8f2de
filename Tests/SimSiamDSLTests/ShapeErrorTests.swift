import Testing
import SimSiamIR
@testable import SimSiamDSL

@Suite struct ShapeErrorTests {
    @Test func mismatchNamesOpLayerLocationAndShapes() throws {
        let model = Model()
        let conv = Conv2d(model, "stem", 3, 8, kernel: 3, padding: 1)
        let g = GraphBuilder(name: "bad", model: model, training: true)
        let x = g.input("x", [2, 1, 8, 8])
        g.output("y", conv(x).relu())
        #expect {
            _ = try g.finish()
        } throws: { error in
            let text = "\(error)"
            return text.contains("conv2d") && text.contains("[stem]") && text.contains("ShapeErrorTests.swift:")
                && text.contains("[2,1,8,8]") && text.contains("[8,3,3,3]")
        }
    }

    @Test func anotherBackboneNeedsNoCompilerChange() throws {
        // A wider, deeper ResNet for 3-channel input, described only with the DSL.
        let model = Model()
        let backbone = ResNet(model, inputChannels: 3, stemWidth: 16, stages: [
            .init(width: 16, blocks: 2, stride: 1), .init(width: 48, blocks: 3, stride: 2),
        ])
        let projector = Sequential(model, "projector") { s in
            s.linear(backbone.featureDimension, 64, bias: .none); s.batchNorm(64); s.relu()
            s.linear(64, 64, bias: .frozen); s.batchNorm(64, affine: false)
        }
        let predictor = model.inGroup("predictor") {
            Sequential(model, "predictor") { s in s.linear(64, 16, bias: .none); s.batchNorm(16); s.relu(); s.linear(16, 64) }
        }
        let simsiam = SimSiam(model: model, backbone: backbone, projector: projector, predictor: predictor, imageShape: [3, 16, 16])
        let graph = try simsiam.trainingGraph(name: "custom", batch: 2)
        #expect(graph.state.parameters.contains { $0.name == "backbone.layer2.2.conv2.weight" })
        #expect(graph.shape(of: graph.outputs["loss"]!) == [])
    }
}
