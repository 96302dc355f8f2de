import Foundation
import Testing
@testable import SimSiamRuntime

@Suite struct ModelLibraryTests {
    @Test func parsesTheSymbolTableAndSizes() throws {
        let library = try ModelLibrary.load(path: ToyLibraryFixture.libraryPath(.float32))
        #expect(library.scalarBytes == 4)
        #expect(library.batch == 4)
        #expect(library.paramsCount == 8)
        #expect(library.buffersCount == 2)
        #expect(library.countersCount == 1)
        #expect(library.workspaceCount == 8)
        #expect(library.inputCount == 1)
        #expect(library.groupNames == ["encoder"])
        #expect(library.featureDim == 2)
        let expected = [
            TensorSymbol(name: "w", arena: .params, kind: .trainable, group: 0, offset: 0, shape: [2, 3]),
            TensorSymbol(name: "b", arena: .params, kind: .frozen, group: nil, offset: 6, shape: [2]),
            TensorSymbol(name: "bn.running_mean", arena: .buffers, kind: .runningMean, group: nil, offset: 0, shape: [2]),
            TensorSymbol(
                name: "bn.num_batches_tracked", arena: .counters, kind: .numBatchesTracked, group: nil, offset: 0,
                shape: []),
            TensorSymbol(name: "x", arena: .inputs, kind: .input, group: nil, offset: 0, shape: [4, 3]),
        ]
        #expect(library.symbols == expected)
        #expect(library.symbols.map(\.numel) == [6, 2, 2, 1, 12])
        #expect(library.inputs.map(\.name) == ["x"])
        #expect(library.symbol(named: "b")?.offset == 6)
        #expect(library.symbol(named: "nope") == nil)
    }

    @Test func readsTheScalarSizeOfADoubleBuild() throws {
        let library = try ModelLibrary.load(path: ToyLibraryFixture.libraryPath(.float64))
        #expect(library.scalarBytes == 8)
    }

    /// Loading a library sets glibc's thresholds so that the kernels' scratch stays in the heap.
    @Test func loadingKeepsKernelScratchInTheHeap() throws {
        _ = try NativeLibrary.load(path: ToyLibraryFixture.libraryPath(.float32))
        let tunables = ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] ?? ""
        let userSetsThresholds = tunables.contains("mmap_threshold") || tunables.contains("trim_threshold")
        #expect(KernelHeap.configured == !userSetsThresholds)
    }

    @Test func loadingTheSamePathReturnsTheSameLibrary() throws {
        let path = try ToyLibraryFixture.libraryPath(.float32)
        #expect(try NativeLibrary.load(path: path) === NativeLibrary.load(path: path))
    }

    @Test func aMissingEntryPointNamesTheSymbolAndLibrary() throws {
        let path = try ToyLibraryFixture.libraryPath(.missingFeatures)
        expectRuntimeError(containing: ["simsiam_features", path]) { _ = try ModelLibrary.load(path: path) }
        expectRuntimeError(containing: ["nothing_here", path]) {
            _ = try NativeLibrary.load(path: path).function("nothing_here", as: (@convention(c) () -> Void).self)
        }
    }

    @Test func anotherABIVersionAsksForARecompile() throws {
        let path = try ToyLibraryFixture.libraryPath(.previousABIVersion)
        expectRuntimeError(containing: ["version 1", "recompile", path]) { _ = try ModelLibrary.load(path: path) }
    }

    @Test func aMissingFileReportsTheDynamicLinkerError() {
        let path = "/nonexistent/libmissing.so"
        expectRuntimeError(containing: [path, "No such file"]) { _ = try NativeLibrary.load(path: path) }
    }

    @Test func callsAFunctionLookedUpByName() throws {
        let native = try NativeLibrary.load(path: ToyLibraryFixture.libraryPath(.float32))
        let batch = try native.function("simsiam_batch", as: (@convention(c) () -> Int64).self)
        #expect(batch() == 4)
        #expect(native.hasSymbol("simsiam_init"))
        #expect(!native.hasSymbol("simsiam_nothing"))
    }
}
