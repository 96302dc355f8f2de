import Testing
import SimSiamIR
@testable import SimSiamDSL

/// Multiply-adds of one view's forward pass, from the traced graph.
func forwardMultiplyAdds(_ graph: Graph) -> Int {
    graph.nodes.reduce(0) { total, node in
        switch node.op {
        case .conv2d:
            let y = graph.shape(of: node.results[0]), w = graph.shape(of: node.operands[1])
            return total + y.elementCount * w[1] * w[2] * w[3]
        case .linear:
            let y = graph.shape(of: node.results[0]), w = graph.shape(of: node.operands[1])
            return total + y.elementCount * w[1]
        default: return total
        }
    }
}

@Suite struct WorkloadTests {
    @Test func specNamesSelectTheReferenceWorkloads() {
        #expect(Workload.named("W1")?.name == "fmnist-resnet-mini")
        #expect(Workload.named("w2")?.name == "cifar-resnet18")
        #expect(Workload.named("cifar-resnet18")?.name == "cifar-resnet18")
        #expect(Workload.named("W3") == nil)
        #expect(Workload.named("Tiny") == nil)  // only the spec names ignore case
        #expect(Workload.choices == "fmnist-resnet-mini (W1), cifar-resnet18 (W2), tiny")
    }

    @Test func fmnistParameterNamesFollowTheSpec() throws {
        let graph = try Workload.fmnistResNetMini.makeModel().trainingGraph(name: "w1", batch: 4)
        let names = Set(graph.state.parameters.map(\.name))
        for name in ["backbone.conv1.weight", "backbone.bn1.weight", "backbone.layer1.0.conv1.weight",
                     "backbone.layer2.0.downsample.0.weight", "backbone.layer3.0.downsample.1.bias",
                     "projector.0.weight", "projector.6.weight", "projector.6.bias", "predictor.3.bias"] {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(!names.contains("backbone.layer1.0.downsample.0.weight"))
        #expect(!names.contains("projector.7.weight"))
        let buffers = Set(graph.state.buffers.map(\.name))
        #expect(buffers.contains("projector.7.running_mean"))
        let frozen = graph.state.parameters.filter { !$0.isTrainable }.map(\.name)
        #expect(frozen == ["projector.6.bias"])
        let predictorGroup = graph.state.groups.firstIndex(of: "predictor")
        #expect(graph.state.parameters.filter { $0.group == predictorGroup }.allSatisfy { $0.name.hasPrefix("predictor.") })
        #expect(graph.state.parameters.first { $0.name == "backbone.layer1.0.bn2.weight" }?.initializer == .constant(0))
    }

    @Test func forwardCostsMatchTheSpec() throws {
        // The spec: about 37 M multiply-adds per image and view for W1, 0.56 G for W2.
        let w1 = try Workload.fmnistResNetMini.makeModel().featureGraph(name: "w1", batch: 1)
        let w2 = try Workload.cifarResNet18.makeModel().featureGraph(name: "w2", batch: 1)
        #expect(abs(Double(forwardMultiplyAdds(w1)) / 37e6 - 1) < 0.05)
        #expect(abs(Double(forwardMultiplyAdds(w2)) / 0.56e9 - 1) < 0.05)
    }

    @Test func cifarProjectorIsTwoLayers() throws {
        let names = try Workload.cifarResNet18.makeModel().trainingGraph(name: "w2", batch: 2).state.parameters.map(\.name)
        #expect(names.contains("projector.3.bias"))
        #expect(!names.contains { $0.hasPrefix("projector.6") })
        #expect(names.contains("backbone.layer4.1.conv2.weight"))
    }

    @Test func bothViewsShareParametersAndUpdateEachBNTwice() throws {
        let graph = try Workload.tiny.makeModel().trainingGraph(name: "tiny", batch: 4)
        #expect(graph.inputs.map(\.name) == ["x1", "x2"])
        var applications: [Int: Int] = [:]
        for node in graph.nodes {
            if case .batchNorm(let a) = node.op { applications[a.counter, default: 0] += 1 }
        }
        #expect(applications.count == graph.state.counters.count)
        #expect(applications.values.allSatisfy { $0 == 2 })
        let parameterNodes = graph.nodes.filter { if case .parameter = $0.op { true } else { false } }
        #expect(parameterNodes.count == graph.state.parameters.count)
    }
}
