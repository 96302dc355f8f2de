import Foundation

/// A pass of a convolution layer, each with its own kernel: the forward convolution, the
/// gradient of its input (dx) and the gradient of its weights (dw).
public enum ConvPass: String, Codable, Sendable, CaseIterable, Comparable {
    case forward, dx, dw

    public static func < (a: ConvPass, b: ConvPass) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// How the tuned code generator runs one pass of a convolution (the C is in `CRuntime/`).
public enum ConvAlgorithm: String, Codable, Sendable, CaseIterable {
    /// `conv_gemm` / `conv_weight_gemm`: read in place from a phase-split, padded copy of each
    /// image, on a grid that also computes (and drops) the padding columns.
    case inPlace = "in-place"
    /// `conv_cl_gemm` / `conv_cl_weight_gemm`: output positions as GEMM rows, read from a
    /// channels-last copy; pays a transposing copy, wastes no FMAs on padding.
    case channelsLast = "channels-last"
    /// `gemm_column_panels` with both operands packed (implicit im2col). Forward and dw only.
    case packed
    /// `conv_wino` / `conv_wino_weight`: Winograd F(2x2, 3x3). 3x3 kernels at stride 1, padding 1 only.
    case winograd
    /// `conv_wino4` / `conv_wino4_weight`: Winograd F(4x4, 3x3), 44% fewer multiplies than F(2x2, 3x3)
    /// and about 4x its rounding error. Where it runs is the planner's choice (`winograd4x4Fits`:
    /// float32 dx and dw, forwards of up to 32 channels); a plan may ask for it on any pass `winograd`
    /// can run but in bfloat16.
    case winograd4x4 = "winograd-4x4"

    /// Whether this is one of the Winograd convolutions.
    public var isWinograd: Bool { self == .winograd || self == .winograd4x4 }
}

/// One entry of a kernel plan: which algorithm runs one pass of one convolution layer.
public struct ConvPlanEntry: Codable, Hashable, Sendable {
    /// The layer's label as the IR prints it (`backbone.layer1.0.conv1`): every convolution node
    /// with this label (both views, and the feature graph) follows the entry.
    public var layer: String
    /// `forward`, `dx` or `dw`.
    public var pass: ConvPass
    /// `in-place`, `channels-last`, `packed`, `winograd` or `winograd-4x4`.
    public var algorithm: ConvAlgorithm
    /// Images each thread copies and computes in one pass, for the algorithms that batch images:
    /// channels-last, Winograd and the in-place dw (the in-place forward and dx run one image at a
    /// time, packed GEMMs run across the batch). More images amortise per-pass costs (lane sums,
    /// a short tail of tiles); fewer keep the pass's copies in cache. Results stay exact to
    /// rounding. Absent: the cost models' number (`compile` writes it out where there is one).
    public var imagesPerPass: Int?
    /// In a bfloat16 build (`--precision bf16`): whether the pass rounds its operands to bfloat16
    /// and runs the bfloat16 GEMM (packed, Winograd, channels-last), or stays
    /// float32. Absent in float32 and float64
    /// builds; absent in a bfloat16 build: the cost models' choice.
    public var bf16: Bool?
    /// Winograd only: the output tiles one block transforms and multiplies point by point, a
    /// whole number of register tiles (8 rows on AVX-512, 4 on AVX2). A block's transformed
    /// inputs (16 or 36 points x tiles x channels) should stay in L2; more tiles give the point GEMMs
    /// longer runs. Absent: the cost models' number (up to 48).
    public var tilesPerBlock: Int?
    /// Packed dw only: how threads share the work. Absent: the cost models' choice.
    public var threadSplit: ThreadSplit?

    public init(layer: String, pass: ConvPass, algorithm: ConvAlgorithm, imagesPerPass: Int? = nil, bf16: Bool? = nil,
                tilesPerBlock: Int? = nil, threadSplit: ThreadSplit? = nil) {
        self.layer = layer
        self.pass = pass
        self.algorithm = algorithm
        self.imagesPerPass = imagesPerPass
        self.bf16 = bf16
        self.tilesPerBlock = tilesPerBlock
        self.threadSplit = threadSplit
    }
}

/// How the threads of a packed weight-gradient GEMM (dw = dy x im2col(x), summed over the batch's
/// pixels) share it; either way every value of dw is summed in a fixed order.
public enum ThreadSplit: String, Codable, Sendable, CaseIterable {
    /// Threads own column panels of dw and sum the whole batch in registers: no partial sums to
    /// zero and add, but a dw of few columns has too few panels to share.
    case columns
    /// Threads take contiguous blocks of the batch's pixels (k) into private partial sums of dw,
    /// added in thread order: any number of threads on a narrow dw, at the cost of one dw per thread.
    case kBlocks = "k-blocks"
}

/// The kernel plan: the per-layer choices of the tuned code generator, as data. `KernelPlanner`
/// derives it from the cost models; `compile --out DIR` writes it to `DIR/plan.json`, and a plan
/// read back with `--plan FILE` overrides the derived choice of every layer and pass it lists
/// (the rest keep theirs). The derived plan gives the same C as no plan at all.
public struct KernelPlan: Codable, Hashable, Sendable {
    /// The version of this file's layout; readers reject any other.
    public var format: Int
    /// One entry per convolution layer and pass, in the order the layers first run.
    public var convolutions: [ConvPlanEntry]

    public static let currentFormat = 1

    public init(convolutions: [ConvPlanEntry]) {
        self.format = Self.currentFormat
        self.convolutions = convolutions
    }

    /// The algorithm the plan gives a layer's pass, or nil when the plan does not list it.
    public func algorithm(layer: String, pass: ConvPass) -> ConvAlgorithm? {
        entry(layer: layer, pass: pass)?.algorithm
    }

    /// The entry of a layer's pass, or nil when the plan does not list it.
    public func entry(layer: String, pass: ConvPass) -> ConvPlanEntry? {
        convolutions.last { $0.layer == layer && $0.pass == pass }
    }

    /// The plan as `plan.json` holds it: pretty-printed, keys sorted, one entry per line group.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Reads a plan written by `encoded()` (or by hand).
    /// - Throws: `KernelPlanError` naming the file and what is wrong with it.
    public static func decode(_ data: Data, file: String) throws -> KernelPlan {
        let plan: KernelPlan
        do {
            plan = try JSONDecoder().decode(KernelPlan.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw KernelPlanError("\(file): \(context.debugDescription) at \(Self.path(context.codingPath)); "
                                  + "passes are \(ConvPass.allCases.map(\.rawValue).joined(separator: ", ")), "
                                  + "algorithms \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        } catch let DecodingError.keyNotFound(key, context) {
            throw KernelPlanError("\(file): no \"\(key.stringValue)\" at \(Self.path(context.codingPath)); "
                                  + "write the plan with `simsiamc compile --out DIR` and edit DIR/plan.json")
        } catch {
            throw KernelPlanError("\(file) is not a kernel plan (\(error)); write one with `simsiamc compile --out DIR` and edit DIR/plan.json")
        }
        guard plan.format == currentFormat else {
            throw KernelPlanError("\(file) has format \(plan.format); this simsiamc reads \(currentFormat): rewrite it with `simsiamc compile --out DIR`")
        }
        return plan
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
    }
}

/// A plan entry that cannot apply, or a plan file that cannot be read: the message names the
/// layer, the pass and what to do.
public struct KernelPlanError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
