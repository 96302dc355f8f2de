import Foundation

/// `manifest.json` of a tuning directory: what `compile --out` compiled, so that
/// `--library DIR` can recompile the same graph, check the edited C against it
/// and refuse a run that asks for another graph.
public struct TuningManifest: Codable, Sendable, Equatable {
    /// Bumped when the fields change meaning.
    public static let currentFormat = 1
    public static let fileName = "manifest.json"

    public var format = Self.currentFormat
    /// Workload name (`fmnist-resnet-mini`).
    public var workload: String
    /// Batch per view the C is written for (shapes are constants in it).
    public var batch: Int
    public var variant: SimSiamVariant
    /// `float32` or `float64`.
    public var precision: String
    /// `tuned` or `reference`.
    public var kernels: String
    /// `avx512` or `avx2`: the register tiles of tuned kernels.
    public var vectorWidth: String
    public var checkNumerics: Bool
    /// File stem of `<stem>.c` and `<stem>.h`.
    public var stem: String
    /// Hex SHA-256 of `<stem>.c` as simsiamc wrote it: tells an edited file from the original.
    public var graphHash: String
    /// `SIMSIAM_ABI_VERSION` of the C.
    public var abiVersion: Int
    /// Distinct kernel functions in the C.
    public var kernelCount: Int
    /// The model description or graph file, for models that are not built in.
    public var model: ModelRecord?
    /// The `--plan` the C was compiled with (nil: the cost models' plan, as `plan.json` shows it):
    /// recompiling the directory's graph needs it to give the same C.
    public var plan: KernelPlan?

    /// The manifest of a program compiled with `compile --out`.
    public init(workload: String, variant: SimSiamVariant, lowered: LoweredProgram, abiVersion: Int) {
        self.workload = workload
        batch = lowered.batch
        self.variant = variant
        precision = lowered.options.trainingPrecision.rawValue
        kernels = lowered.options.kernels.rawValue
        vectorWidth = lowered.options.vectorWidth.rawValue
        checkNumerics = lowered.options.checkNumerics
        stem = lowered.generated.baseName
        graphHash = SHA256.hexDigest(of: lowered.generated.source)
        self.abiVersion = abiVersion
        kernelCount = lowered.generated.kernelCount
        plan = lowered.options.plan
    }

    /// The code generation options the directory's C was written with.
    /// - Throws: `CompileError` naming the field a hand-edited manifest got wrong.
    public func codegenOptions() throws -> CodegenOptions {
        func value<T: RawRepresentable<String>>(_ raw: String, _ field: String, _ all: [T]) throws -> T {
            guard let value = T(rawValue: raw) else {
                throw CompileError("\(Self.fileName): \(field) \"\(raw)\" is not one of \(all.map(\.rawValue).joined(separator: ", "))")
            }
            return value
        }
        let training = try value(precision, "precision", TrainingPrecision.allCases)
        return CodegenOptions(precision: training.scalar,
                              kernels: try value(kernels, "kernels", KernelStrategy.allCases),
                              vectorWidth: try value(vectorWidth, "vectorWidth", VectorWidth.allCases),
                              checkNumerics: checkNumerics, tuningHooks: true, plan: plan, operands: training.operands)
    }

    /// The workload it names: built in, or rebuilt from the model record.
    public func resolvedWorkload() throws -> Workload {
        if model == nil && Workload.named(workload) == nil {
            throw CompileError("\(Self.fileName): unknown workload \"\(workload)\"; this simsiamc knows \(Workload.choices)")
        }
        return try LoadedModel.restore(name: workload, record: model).workload
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
