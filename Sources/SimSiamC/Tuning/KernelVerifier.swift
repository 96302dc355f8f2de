import Foundation

/// `simsiamc verify`: does an edited tuning directory still compute what the
/// generated C computes, kernel by kernel?
///
/// Three tracing builds run one training step (then eval-mode features) on the
/// same parameters and inputs: the generated C (G), the same graph in float64 (T,
/// for the rounding scale) and the edited C (E). G records every tensor each kernel
/// call writes. T and E are *replayed*: after each of their kernel calls the hook
/// compares what the call wrote with G's tensor, then overwrites it with G's, so
/// every kernel of T and E starts from G's inputs. A difference is then the
/// kernel's own: nothing upstream amplifies it (an end-of-step comparison would see
/// one float32 kernel's rounding grow through ReLUs near zero, as PyTorch's own
/// float32 lands 1e-3 to 1e-2 from float64 on some weight gradients).
///
/// Tolerance per tensor: `allowed = 16 * rounding + 64 * eps * scale`, where
/// `rounding = max|G - T|` is the generated kernel's own float32 error on these
/// inputs, `scale = max|T|` and eps the unit roundoff (2^-24 for float32).
/// A harmless edit (reordered loops or sums) rounds differently but about as much
/// as G; an off-by-one bound leaves elements stale or drops a term of a sum,
/// which for a sum of K terms is about 1/sqrt(K) of the result against rounding
/// of about eps * sqrt(K): above the tolerance for every reduction in W1
/// (K up to ~2e5 gives a factor ~80). Float64 directories have no wider truth: their
/// tolerance is 1e-9 * scale.
public enum KernelVerifier {
    /// Runs the check. `seed` picks the parameters and inputs.
    public static func verify(_ directory: TuningDirectory, seed: UInt64 = 0, cache: BuildCache? = nil) throws -> KernelVerification {
        let cache = try cache ?? BuildCache()
        let program = try Compiler.loadEdited(directory, instrumentation: .trace, cache: cache)
        var options = try directory.manifest.codegenOptions()
        let generated = try tracingBuild(options, directory.manifest, cache: cache)
        options.precision = .float64
        options.operands = .native  // the float64 truth: a bfloat16 build's kernels are judged against exact arithmetic
        let truth = directory.manifest.precision == Precision.float64.rawValue ? nil : try tracingBuild(options, directory.manifest, cache: cache)

        guard let generatedTrace = try LibraryTrace(library: generated.library),
              let editedTrace = try LibraryTrace(library: program.edited.library) else {
            throw CompileError("internal: a tracing build exports no simsiam_set_trace")
        }
        let common = min(editedTrace.points.count, generatedTrace.points.count)
        if let index = (0..<common).first(where: { editedTrace.points[$0] != generatedTrace.points[$0] })
            ?? (editedTrace.points.count == generatedTrace.points.count ? nil : common) {
            let got = index < editedTrace.points.count ? "\(editedTrace.points[index].kernel) \(editedTrace.points[index].tensor)" : "nothing"
            let want = index < generatedTrace.points.count ? "\(generatedTrace.points[index].kernel) \(generatedTrace.points[index].tensor)" : "nothing"
            throw CompileError("\(directory.sourceURL.path): trace point \(index) is \(got) but the generated C has \(want); keep the entry points' TRACE_TENSOR lines (and the trace table) as generated")
        }

        let workload = try directory.manifest.resolvedWorkload()
        let seeded = ModelState(library: generated.library)
        seeded.initialize(seed: seed)
        // Every run starts from these: G's step updates its own state in place.
        let initial = varyingConstants(seeded.exportTensors(includeGradients: false), seed: seed)
        let reference = try copyState(initial, to: generated.library)
        var random = SplitMix64(seed: seed &+ 1)
        let inputs = generated.library.inputs.map { symbol in (0..<symbol.numel).map { _ in Float(random.nextUnit() * 2 - 1) } }
        let rates = Array(repeating: workload.baseLR * Double(generated.library.batch) / 256, count: generated.library.groupNames.count)
        func run(_ state: ModelState, _ trace: LibraryTrace, _ handler: @escaping (Int, UnsafeMutableRawPointer, Int) -> Void) throws {
            try trace.run(handler: handler) {
                _ = try state.trainStep(inputs: inputs, groupLR: rates, weightDecay: workload.weightDecay, momentum: 0.9)
                if state.library.featureDim > 0 { _ = try state.features(batch: inputs[0]) }
            }
        }

        // G: record every written tensor.
        var recorded = [[UInt8]](repeating: [], count: generatedTrace.points.count)
        let bytes = generated.library.scalarBytes
        try run(reference, generatedTrace) { point, tensor, count in
            recorded[point] = TracedTensor.record(tensor, count: count, scalarBytes: bytes)
        }

        // T: the generated kernels' rounding on G's inputs.
        var rounding = [Double](repeating: 0, count: recorded.count)
        var scale = [Double?](repeating: nil, count: recorded.count)
        if let truth, let truthTrace = try LibraryTrace(library: truth.library) {
            let state = try copyState(initial, to: truth.library)
            try run(state, truthTrace) { point, tensor, _ in
                let compared = TracedTensor.compare(tensor, scalarBytes: 8, with: recorded[point], recordedBytes: bytes)
                rounding[point] = compared.difference
                scale[point] = compared.scale
                TracedTensor.replay(recorded[point], recordedBytes: bytes, into: tensor, scalarBytes: 8)
            }
        }

        // E: the edited kernels on G's inputs.
        var results: [KernelVerification.TensorResult] = []
        let state = try copyState(initial, to: program.edited.library)
        let floor = truth == nil ? 1e-9 : 64 * Double(Float.ulpOfOne) / 2
        var reached = Set<Int>()
        try run(state, editedTrace) { point, tensor, count in
            let compared = TracedTensor.compare(tensor, scalarBytes: bytes, with: recorded[point], recordedBytes: bytes)
            let pointScale = scale[point] ?? TracedTensor.scale(of: recorded[point], bytes: bytes)
            results.append(.init(index: point, point: generatedTrace.points[point], count: count, difference: compared.difference,
                                 element: compared.element, rounding: rounding[point], scale: pointScale,
                                 allowed: 16 * rounding[point] + floor * pointScale))
            reached.insert(point)
            TracedTensor.replay(recorded[point], recordedBytes: bytes, into: tensor, scalarBytes: bytes)
        }
        let skipped = generatedTrace.points.indices.filter { !reached.contains($0) && !recorded[$0].isEmpty }
        return KernelVerification(program: program, results: results, skippedPoints: skipped.map { generatedTrace.points[$0] },
                                  precision: directory.manifest.precision)
    }

    /// The graph's own C built for tracing with `options`.
    private static func tracingBuild(_ options: CodegenOptions, _ manifest: TuningManifest, cache: BuildCache) throws -> CompiledModel {
        let lowered = try Lowering.lower(try manifest.resolvedWorkload(), variant: manifest.variant, batch: manifest.batch, options: options)
        let generated = lowered.generated
        let build = try cache.build(source: Instrumentation.trace.prepare(generated.source, path: nil), header: generated.header,
                                    headerName: generated.baseName + ".h", libraryName: generated.baseName + "_trace")
        return CompiledModel(lowered: lowered, build: build, library: try ModelLibrary.load(path: build.path))
    }

    /// The tensors with every constant-initialised floating tensor (BN gamma and beta, biases,
    /// running statistics) drawn around its constant instead, +-0.5. The zero-init residual's
    /// gamma = 0 leaves each block's branch without a gradient at init, so its backward kernels
    /// (dx and dw of both convolutions, the BN backward) would compare zeros with zeros and pass
    /// whatever an edit did to them.
    static func varyingConstants(_ tensors: [(name: String, tensor: HostTensor)], seed: UInt64) -> [(name: String, tensor: HostTensor)] {
        var random = SplitMix64(seed: seed &+ 2)
        return tensors.map { name, tensor in
            switch tensor.storage {
            case .float32(let values) where values.count > 1 && values.allSatisfy({ $0 == values[0] }):
                return (name, HostTensor(shape: tensor.shape, floats: values.map { $0 + Float(random.nextUnit() - 0.5) }))
            case .float64(let values) where values.count > 1 && values.allSatisfy({ $0 == values[0] }):
                return (name, HostTensor(shape: tensor.shape, doubles: values.map { $0 + random.nextUnit() - 0.5 }))
            default:
                return (name, tensor)
            }
        }
    }

    /// A new state of `library` holding these parameters, buffers and counters (momentum is zero after init).
    private static func copyState(_ tensors: [(name: String, tensor: HostTensor)], to library: ModelLibrary) throws -> ModelState {
        let copy = ModelState(library: library)
        for (name, tensor) in tensors { try copy.setTensor(named: name, tensor) }
        return copy
    }
}

/// Recording, comparing and replaying traced tensors of either scalar type.
enum TracedTensor {
    /// A copy of the tensor's bytes.
    static func record(_ pointer: UnsafeMutableRawPointer, count: Int, scalarBytes: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: pointer, count: count * scalarBytes))
    }

    /// max|tensor - recorded| and where, and max|tensor|; a NaN on one side only counts as an infinite difference.
    static func compare(_ pointer: UnsafeMutableRawPointer, scalarBytes: Int, with recorded: [UInt8], recordedBytes: Int)
        -> (difference: Double, element: Int, scale: Double)
    {
        let count = recorded.count / recordedBytes
        var worst = 0.0, at = 0, scale = 0.0
        recorded.withUnsafeBytes { saved in
            for index in 0..<count {
                let value = scalarBytes == 4 ? Double(pointer.load(fromByteOffset: 4 * index, as: Float.self))
                    : pointer.load(fromByteOffset: 8 * index, as: Double.self)
                let reference = recordedBytes == 4 ? Double(saved.load(fromByteOffset: 4 * index, as: Float.self))
                    : saved.load(fromByteOffset: 8 * index, as: Double.self)
                var difference = abs(value - reference)
                if difference.isNaN { difference = value.isNaN && reference.isNaN ? 0 : .infinity }
                if difference > worst { worst = difference; at = index }
                scale = max(scale, abs(value))
            }
        }
        return (worst, at, scale)
    }

    /// max|recorded|.
    static func scale(of recorded: [UInt8], bytes: Int) -> Double {
        recorded.withUnsafeBytes { saved in
            (0..<(recorded.count / bytes)).reduce(0.0) { scale, index in
                max(scale, abs(bytes == 4 ? Double(saved.load(fromByteOffset: 4 * index, as: Float.self))
                                           : saved.load(fromByteOffset: 8 * index, as: Double.self)))
            }
        }
    }

    /// Overwrites the tensor with the recorded values, converting between float and double.
    static func replay(_ recorded: [UInt8], recordedBytes: Int, into pointer: UnsafeMutableRawPointer, scalarBytes: Int) {
        recorded.withUnsafeBytes { saved in
            guard scalarBytes != recordedBytes else {
                pointer.copyMemory(from: saved.baseAddress!, byteCount: saved.count)
                return
            }
            for index in 0..<(recorded.count / recordedBytes) {
                if scalarBytes == 8 {
                    pointer.storeBytes(of: Double(saved.load(fromByteOffset: 4 * index, as: Float.self)), toByteOffset: 8 * index, as: Double.self)
                } else {
                    pointer.storeBytes(of: Float(saved.load(fromByteOffset: 8 * index, as: Double.self)), toByteOffset: 4 * index, as: Float.self)
                }
            }
        }
    }
}
