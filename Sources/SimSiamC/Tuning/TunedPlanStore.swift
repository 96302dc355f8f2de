import Foundation

/// What `simsiamc tune` measured for one graph on one CPU, and the plan it chose.
public struct TunedPlanRecord: Codable, Sendable, Equatable {
    /// The version of this file's layout and of the kernels it was timed with; other versions are
    /// ignored (tune again).
    public var format: Int
    /// The plan later compiles use: per layer and pass the fastest algorithm measured, or the cost
    /// models' plan when the tuned one was not faster as a whole step.
    public var plan: KernelPlan
    /// The graph's name, batch per view, precision, vector width and OpenMP threads it was timed at.
    public var graph: String
    public var batch: Int
    public var precision: String
    public var vectorWidth: String
    public var threads: Int
    /// `/proc/cpuinfo`'s model name.
    public var cpu: String
    /// When it was measured (ISO 8601).
    public var measured: String
    /// Per layer and pass: seconds per step of every algorithm timed.
    public var layers: [LayerTiming]
    /// Median seconds of a whole training step, cost models' plan against the tuned one,
    /// timed in alternation.
    public var derivedStepSeconds: Double
    public var tunedStepSeconds: Double
    /// Whether `plan` is the tuned one (false: the tuned plan was not faster, the cost models' stays).
    public var tunedPlanKept: Bool

    /// 2: the channels-last dw has a bfloat16 kernel. A bfloat16 plan of format 1 says
    /// `"bf16": false` on every channels-last dw (the cost models' only choice then), which would
    /// keep the float32 kernel, 1.6-2x slower there.
    public static let currentFormat = 2

    /// One layer and pass: what each algorithm took per training step (both views).
    public struct LayerTiming: Codable, Sendable, Equatable {
        public var layer: String
        public var pass: ConvPass
        public var shape: String
        public var derived: ConvAlgorithm
        public var chosen: ConvAlgorithm
        public var seconds: [String: Double]
        /// Where the chosen algorithm is Winograd: seconds per step of each blocking timed (keyed
        /// "48 tiles x3", `WinogradBlocking.description`) and the fastest. Absent otherwise, and in
        /// records written before blockings were tuned.
        public var blockingSeconds: [String: Double]? = nil
        public var chosenBlocking: WinogradBlocking? = nil
        /// The first blocking timed: the cost models' (the one `seconds` has Winograd's time at).
        public var derivedBlocking: WinogradBlocking? = nil

        /// Whether the tuned entry differs from the cost models': another algorithm, or Winograd
        /// blocked otherwise.
        public var changed: Bool { chosen != derived || chosenBlocking != derivedBlocking }

        /// Time saved per step by the chosen algorithm and blocking over the cost models' choice.
        public var gainSeconds: Double {
            let chosenSeconds = chosenBlocking.flatMap { blockingSeconds?[$0.description] } ?? seconds[chosen.rawValue] ?? 0
            return (seconds[derived.rawValue] ?? 0) - chosenSeconds
        }
    }
}

/// The tuned plans on disk: `<cache>/plans/<key>.json`, one per CPU (model and flags), graph (its
/// content without DSL lines), batch, precision, vector width and thread count. Another CPU, an
/// edited model or another thread count finds no plan and gets the cost models' choice.
public struct TunedPlanStore: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `plans/` inside the build cache (`SIMSIAMC_CACHE_DIR`, else `~/.cache/simsiamc`).
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        BuildCache.defaultDirectory(environment: environment).appendingPathComponent("plans", isDirectory: true)
    }

    /// The environment variable that moves the store (a directory) or turns its lookup off (`off`).
    public static let directoryVariable = "SIMSIAMC_TUNED_PLANS"

    /// The store commands use: `SIMSIAMC_TUNED_PLANS` if it names a directory, none if it says
    /// `off` (the test suite sets that, so results never depend on what `tune` stored), else
    /// `defaultDirectory`.
    public static func configured(environment: [String: String] = ProcessInfo.processInfo.environment) -> TunedPlanStore? {
        switch environment[directoryVariable] {
        case "off"?: return nil
        case let path? where !path.isEmpty: return TunedPlanStore(directory: URL(fileURLWithPath: path, isDirectory: true))
        default: return TunedPlanStore(directory: defaultDirectory(environment: environment))
        }
    }

    /// The file a graph's plan lives in under these options and thread count.
    public func file(forward: Graph, options: CodegenOptions, threads: Int) throws -> URL {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var key = "simsiamc tuned plan \(TunedPlanRecord.currentFormat)\n\(CPUIdentity.current)\n"
        key += "precision \(options.precision.rawValue), operands \(options.operands), vector width \(options.vectorWidth.rawValue), threads \(threads)\n"
        key += SHA256.hexDigest(of: try encoder.encode(forward.strippingOrigins()))
        let name = Lowering.cFileStem(forward.name) + "-" + SHA256.hexDigest(of: Data(key.utf8)).prefix(16)
        return directory.appendingPathComponent(name + ".json")
    }

    /// The stored record for this graph, or nil when `tune` has not run for it here.
    /// - Throws: when a file exists but cannot be read as a record, naming it.
    public func record(forward: Graph, options: CodegenOptions, threads: Int) throws -> (TunedPlanRecord, URL)? {
        let url = try file(forward: forward, options: options, threads: threads)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let record: TunedPlanRecord
        do {
            record = try JSONDecoder().decode(TunedPlanRecord.self, from: data)
        } catch {
            throw CompileError("\(url.path) is not a tuned plan (\(error)); delete it, or run `simsiamc tune` again")
        }
        return record.format == TunedPlanRecord.currentFormat ? (record, url) : nil
    }

    /// Stores `record` for this graph (atomically), returning the file.
    @discardableResult
    public func store(_ record: TunedPlanRecord, forward: Graph, options: CodegenOptions, threads: Int) throws -> URL {
        let url = try file(forward: forward, options: options, threads: threads)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(record) + Data("\n".utf8), to: url)
        return url
    }

    /// The OpenMP threads a library will use here: `OMP_NUM_THREADS`, else every core.
    public static func threads(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        environment["OMP_NUM_THREADS"].flatMap { Int($0.split(separator: ",").first ?? "") }
            ?? ProcessInfo.processInfo.activeProcessorCount
    }
}

extension TunedPlanStore {
    /// The stored plan lowering should follow, with the line the compile summary prints, or nil
    /// when options ask for no lookup, the kernels are the reference ones, or nothing is stored.
    /// A stored plan that no longer fits the graph (the code generator changed what can run) is
    /// skipped with a note rather than failing the compile.
    static func lookUp(forward: Graph, training: Graph, features: Graph?, options: CodegenOptions) throws
        -> (plan: KernelPlan?, note: String)? {
        guard let directory = options.tunedPlanDirectory, options.kernels == .tuned else { return nil }
        let store = TunedPlanStore(directory: URL(fileURLWithPath: directory, isDirectory: true))
        guard let (record, url) = try store.record(forward: forward, options: options, threads: threads()) else { return nil }
        do {
            try KernelPlanner.validate(record.plan, training: training, features: features, options: options)
        } catch let error as KernelPlanError {
            return (nil, "the plan `simsiamc tune` stored in \(url.path) no longer applies (\(error.description)); the cost models' plan is used: run `simsiamc tune` again")
        }
        let derived = KernelPlanner.derived(training: training, features: features, options: options)
        // As `tune` counts its changes: another algorithm, or the same one with another blocking.
        let pairs = zip(record.plan.convolutions, derived.convolutions)
        let algorithms = pairs.filter { $0.algorithm != $1.algorithm }.count
        let blockings = pairs.filter { stored, derived in
            stored.algorithm == derived.algorithm
                && (stored.tilesPerBlock.map { $0 != derived.tilesPerBlock } ?? false || stored.imagesPerPass.map { $0 != derived.imagesPerPass } ?? false)
        }.count
        let differing = "\(algorithms + blockings) of \(derived.convolutions.count) passes differ from the cost models (\(algorithms) in algorithm, \(blockings) in blocking only)"
        let source = record.tunedPlanKept ? "tuned by `simsiamc tune` on \(record.measured.prefix(10)), \(differing)"
                                          : "the cost models' (`simsiamc tune` on \(record.measured.prefix(10)) found nothing faster)"
        return (record.plan, source + ": " + url.path)
    }
}
