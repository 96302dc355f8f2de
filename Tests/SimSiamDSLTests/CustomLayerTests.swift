import Testing
import SimSiamDSL  // deliberately not @testable: this file uses only the public API

/// A layer a user writes, with its own parameters: a 1x1 convolution that mixes
/// channels (trainable, normal init) plus a frozen per-channel shift.
struct ChannelAffine: Layer {
    let name: String
    let scale: Parameter
    let shift: Parameter

    init(_ model: Model, _ name: String, _ channels: Int) {
        self.name = name
        scale = model.parameter("\(name).scale", [channels, channels, 1, 1], initializer: .normal(std: 0.02))
        shift = model.parameter("\(name).shift", [channels], initializer: .constant(0), trainable: false)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(x.value(of: scale), label: name).addingChannelBias(shift.value(in: x), label: name)
    }
}

@Suite struct CustomLayerTests {
    @Test func aLayerDeclaresItsOwnParametersAndTracesThem() throws {
        let model = Model()
        let stem = Conv2d(model, "stem", 3, 8, kernel: 3, padding: 1, bias: true)
        let affine = model.inGroup("affine") { ChannelAffine(model, "affine", 8) }
        let g = GraphBuilder(name: "custom", model: model, training: true)
        let y = affine(stem(g.input("x", [2, 3, 6, 6]))).maxPool2d(kernel: 2, label: "pool")
        #expect(y.shape == [2, 8, 3, 3])
        g.output("y", y)
        let graph = try g.finish()

        let parameters = graph.state.parameters
        #expect(parameters.map(\.name) == ["stem.weight", "stem.bias", "affine.scale", "affine.shift"])
        #expect(parameters.map(\.shape) == [[8, 3, 3, 3], [8], [8, 8, 1, 1], [8]])
        #expect(parameters.map(\.initializer) == [.kaimingNormalFanOut, .uniformFanIn(fanIn: 27), .normal(std: 0.02), .constant(0)])
        #expect(parameters.map(\.isTrainable) == [true, true, true, false])
        #expect(parameters.map { graph.state.groups[$0.group] } == ["encoder", "encoder", "affine", "affine"])
        // Each parameter is one source node, read by the op the layer applied.
        let mnemonics = graph.nodes.map(\.op.mnemonic)
        #expect(mnemonics == ["input", "parameter", "conv2d", "parameter", "bias_add", "parameter", "conv2d", "parameter", "bias_add", "max_pool2d"])
        #expect(graph.nodes.filter { $0.op.mnemonic == "bias_add" }.map(\.label) == ["stem", "affine"])
    }

    @Test func aParameterOfAnotherModelIsAnErrorNamingIt() throws {
        let other = Model()
        let foreign = other.parameter("foreign.weight", [4, 3, 1, 1], initializer: .kaimingNormalFanOut)
        let model = Model()
        _ = model.parameter("own.weight", [4, 3, 1, 1], initializer: .kaimingNormalFanOut)
        let g = GraphBuilder(name: "mixed", model: model, training: true)
        let x = g.input("x", [1, 3, 4, 4])
        g.output("y", x.conv2d(x.value(of: foreign)))
        #expect {
            _ = try g.finish()
        } throws: { error in
            let text = "\(error)"
            return text.contains("foreign.weight") && text.contains("[4,3,1,1]") && text.contains("another Model")
                && text.contains("CustomLayerTests.swift:")
        }
    }

    @Test func aParameterDeclaredAfterTracingBeganIsAnError() throws {
        let model = Model()
        let g = GraphBuilder(name: "late", model: model, training: true)
        let late = model.parameter("late.weight", [2, 1, 1, 1], initializer: .constant(1))
        let x = g.input("x", [1, 1, 2, 2])
        g.output("y", x.conv2d(late.value(in: x)))
        #expect {
            _ = try g.finish()
        } throws: { error in "\(error)".contains("late.weight") && "\(error)".contains("began tracing") }
    }

    @Test func theImageNetHeadsAreOneLineEach() throws {
        let model = Model()
        let projector = Heads.projector(model, 2048, 2048, layers: 3)
        let predictor = try #require(Heads.predictor(model, 2048, hidden: 512))
        let g = GraphBuilder(name: "heads", model: model, training: true)
        let p = predictor(projector(g.input("features", [4, 2048])))
        #expect(p.shape == [4, 2048])
        g.output("p", p)
        let state = try g.finish().state
        let shapes = Dictionary(uniqueKeysWithValues: state.parameters.map { ($0.name, $0.shape) })
        #expect(shapes == [
            "projector.0.weight": [2048, 2048], "projector.1.weight": [2048], "projector.1.bias": [2048],
            "projector.3.weight": [2048, 2048], "projector.4.weight": [2048], "projector.4.bias": [2048],
            "projector.6.weight": [2048, 2048], "projector.6.bias": [2048],
            "predictor.0.weight": [512, 2048], "predictor.1.weight": [512], "predictor.1.bias": [512],
            "predictor.3.weight": [2048, 512], "predictor.3.bias": [2048],
        ])
        #expect(state.parameters.filter { !$0.isTrainable }.map(\.name) == ["projector.6.bias"])
        #expect(state.buffers.map(\.name).contains("projector.7.running_var"))
        #expect(state.parameters.filter { state.groups[$0.group] == "predictor" }.allSatisfy { $0.name.hasPrefix("predictor.") })
    }

    @Test func customLayersGoInASequential() throws {
        let model = Model()
        let head = Sequential(model, "head") { s in
            s.layer { name in ChannelAffine(s.model, name, 4) }
            s.relu()
        }
        let g = GraphBuilder(name: "seq", model: model, training: false)
        g.output("y", head(g.input("x", [1, 4, 2, 2])))
        #expect(try g.finish().state.parameters.map(\.name) == ["head.0.scale", "head.0.shift"])
    }
}

/// The example layer of docs/own-model.md ("A layer of your own"), verbatim: a 1x1 convolution whose bias is never trained.
struct FrozenBiasConv1x1: Layer {   // a 1x1 convolution whose bias is never trained
    let name: String, weight: Parameter, bias: Parameter
    init(_ m: Model, _ name: String, _ inChannels: Int, _ outChannels: Int) {
        self.name = name
        weight = m.parameter("\(name).weight", [outChannels, inChannels, 1, 1], initializer: .kaimingNormalFanOut)
        bias = m.parameter("\(name).bias", [outChannels], initializer: .constant(0), trainable: false)
    }
    func callAsFunction(_ x: Tensor) -> Tensor {
        x.conv2d(x.value(of: weight), label: name).addingChannelBias(x.value(of: bias), label: name)
    }
}

@Suite struct ReadmeLayerTests {
    @Test func theReadmeLayerTraces() throws {
        let m = Model()
        let layer = FrozenBiasConv1x1(m, "proj", 3, 5)
        let g = GraphBuilder(name: "readme", model: m, training: true)
        let y = layer(g.input("x", [2, 3, 4, 4]))
        g.output("y", y)
        let state = try g.finish().state
        #expect(y.shape == [2, 5, 4, 4])
        #expect(state.parameters.map(\.name) == ["proj.weight", "proj.bias"])
        #expect(state.parameters.map(\.isTrainable) == [true, false])
    }
}
