import Foundation
import SimSiamABI
import Testing

/// The one description of the library ABI agrees with the headers simsiamc
/// emits, so codegen and runtime read the same contract.
struct LibraryABITests {
    @Test(arguments: ["fmnist_resnet_mini.h", "cifar_resnet18.h"])
    func generatedHeaderDeclaresEveryEntryPointAndConstant(header: String) throws {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("Generated").appendingPathComponent(header), encoding: .utf8)
        #expect(text.contains("#define SIMSIAM_ABI_VERSION \(LibraryABI.version)\n"))
        for entryPoint in LibraryABI.EntryPoint.allCases {
            #expect(text.contains(" \(entryPoint.rawValue)("), "\(header) does not declare \(entryPoint.rawValue)")
        }
        for (name, value) in LibraryABI.Arena.allCases.map({ ($0.cName, $0.rawValue) }) + LibraryABI.Kind.allCases.map({ ($0.cName, $0.rawValue) }) {
            #expect(text.contains("\(name) = \(value)"), "\(header) lacks \(name) = \(value)")
        }
    }

    @Test func constantNamesAreUpperSnakeCase() {
        #expect(LibraryABI.Kind.numBatchesTracked.cName == "SIMSIAM_KIND_NUM_BATCHES_TRACKED")
        #expect(LibraryABI.Arena.params.cName == "SIMSIAM_ARENA_PARAMS")
    }
}
