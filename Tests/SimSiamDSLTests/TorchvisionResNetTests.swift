import Foundation
import Testing
import SimSiamDSL  // public API only

/// `ResNet.resnet18/34/50` against torchvision's own modules: the fixture is the
/// state_dict of `torchvision.models.resnetXX(zero_init_residual=True)` minus `fc.*`,
/// written by scripts/torchvision_resnet_state_dicts.py.
@Suite struct TorchvisionResNetTests {
    /// A state_dict entry: its shape ([] for `num_batches_tracked`) and whether it starts all zero.
    struct Entry: Equatable, CustomStringConvertible {
        var shape: [Int]
        var zero: Bool
        var description: String { "\(shape)\(zero ? " zero" : "")" }
    }

    /// model -> (names in state_dict order, name -> entry).
    static func torchvision() throws -> [String: (order: [String], entries: [String: Entry])] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/torchvision_resnet_state_dicts", withExtension: "txt"))
        var models: [String: (order: [String], entries: [String: Entry])] = [:]
        for line in try String(contentsOf: url, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ").map(String.init)
            try #require(fields.count == 4, "fixture line \(line)")
            let shape = fields[2] == "-" ? [] : fields[2].split(separator: ",").map { Int($0)! }
            models[fields[0], default: ([], [:])].order.append(fields[1])
            models[fields[0], default: ([], [:])].entries[fields[1]] = Entry(shape: shape, zero: fields[3] == "zero")
        }
        return models
    }

    /// The same for a DSL backbone under "backbone.", with each tensor's initial value
    /// read off its declaration (BN running means and counters start at 0, variances at 1).
    static func dsl(_ make: (Model) -> ResNet) throws -> (order: [String], entries: [String: Entry], graph: Graph) {
        let model = Model()
        let backbone = make(model)
        let g = GraphBuilder(name: "features", model: model, training: false)
        g.output("features", backbone(g.input("x", [2, 3, 224, 224])))
        let graph = try g.finish()
        let state = graph.state
        func key(_ name: String) throws -> String {
            try #require(name.hasPrefix("backbone."), "\(name) is not under backbone.")
            return String(name.dropFirst("backbone.".count))
        }
        var entries: [String: Entry] = [:]
        for p in state.parameters { entries[try key(p.name)] = Entry(shape: p.shape.dims, zero: p.initializer == .constant(0)) }
        for b in state.buffers { entries[try key(b.name)] = Entry(shape: b.shape.dims, zero: b.role == .runningMean) }
        for c in state.counters { entries[try key(c.name)] = Entry(shape: [], zero: true) }
        return (try state.parameters.map { try key($0.name) }, entries, graph)
    }

    @Test(arguments: ["resnet18", "resnet34", "resnet50"])
    func stateDictEqualsTorchvisionWithoutFC(model name: String) throws {
        let expected = try #require(try Self.torchvision()[name], "no \(name) in the fixture")
        let make: (Model) -> ResNet = switch name {
        case "resnet18": { ResNet.resnet18($0, inputChannels: 3) }
        case "resnet34": { ResNet.resnet34($0, inputChannels: 3) }
        default: { ResNet.resnet50($0, inputChannels: 3) }
        }
        let actual = try Self.dsl(make)
        #expect(Set(actual.entries.keys).subtracting(expected.entries.keys).sorted() == [], "\(name): names torchvision lacks")
        #expect(Set(expected.entries.keys).subtracting(actual.entries.keys).sorted() == [], "\(name): torchvision names missing")
        for (key, entry) in expected.entries where actual.entries[key] != nil && actual.entries[key] != entry {
            Issue.record("\(name) \(key): \(actual.entries[key]!), torchvision \(entry)")
        }
        // Parameters are declared in torchvision's registration order (a safetensors file lists them alike).
        #expect(actual.order == expected.order.filter { actual.order.contains($0) }, "\(name): parameter order")
        let features = try #require(actual.graph.outputs["features"])
        #expect(actual.graph.shape(of: features) == [2, name == "resnet50" ? 2048 : 512])
    }

    @Test func resnet50HasTheImageNetStemAndBottlenecks() throws {
        let (_, _, graph) = try Self.dsl { ResNet.resnet50($0) }
        let convolutions = graph.nodes.filter { $0.op.mnemonic == "conv2d" }
        // The stem, 16 blocks of three, and the first block of each stage's downsample.
        #expect(convolutions.count == 1 + 16 * 3 + 4)
        #expect(convolutions.first.map { graph.shape(of: $0.results[0]) } == [2, 64, 112, 112])
        let pools = graph.nodes.filter { $0.op.mnemonic == "max_pool2d" }
        #expect(pools.map(\.label) == ["backbone.maxpool"])
        #expect(pools.map { graph.shape(of: $0.results[0]) } == [[2, 64, 56, 56]])
        // v1.5: the stride sits on the 3x3 of the first block of stages 2-4.
        let strided = convolutions.filter { graph.shape(of: $0.operands[0])[2] != graph.shape(of: $0.results[0])[2] }.map(\.label)
        #expect(strided == ["backbone.conv1", "backbone.layer2.0.conv2", "backbone.layer2.0.downsample.0", "backbone.layer3.0.conv2",
                            "backbone.layer3.0.downsample.0", "backbone.layer4.0.conv2", "backbone.layer4.0.downsample.0"])
    }
}
