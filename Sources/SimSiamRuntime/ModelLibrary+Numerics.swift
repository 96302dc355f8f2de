/// The first NaN or infinity a check-numerics build met: the step (or feature
/// extraction) stopped right after the kernel that wrote it, before the SGD
/// update, so the parameters are the ones the step started from.
public struct NonFiniteValue: Error, CustomStringConvertible, Sendable, Equatable {
    /// Index of the failed check in the library's table.
    public let check: Int
    /// The C function that wrote the value (`conv2d_fwd__backbone_conv1`, `sgd_update`,
    /// or "the caller" for an input).
    public let kernel: String
    /// Its layer and DSL line: `layer backbone.conv1, DSL SimSiamDSL/ResNet.swift:49`.
    public let origin: String
    /// The tensor: `%3 y [256,32,28,28]` (IR value, kernel parameter, shape) or a
    /// state tensor's name (`backbone.bn1.running_var`, `grad backbone.conv1.weight`).
    public let tensor: String
    /// The first non-finite element (flat index into the tensor) and its value.
    public let element: Int
    public let value: Double

    public var description: String {
        "non-finite value in \(tensor) written by \(kernel) (\(origin)): first at element \(element) = \(value)"
    }
}

/// The check table and failure query that check-numerics builds export
/// (`simsiam_numerics_*`, absent from other builds).
struct NumericsChecks {
    private typealias Failure = @convention(c) (UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<Double>?) -> Int64
    private typealias CheckEntry = @convention(c) (
        Int64, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafeMutablePointer<UnsafePointer<CChar>?>?,
        UnsafeMutablePointer<UnsafePointer<CChar>?>?
    ) -> Void

    private let failure: Failure
    /// kernel, origin, tensor of each check.
    let checks: [(kernel: String, origin: String, tensor: String)]

    /// nil for a library built without checks.
    init?(native: NativeLibrary) throws {
        guard native.hasSymbol("simsiam_numerics_failure") else { return nil }
        failure = try native.function("simsiam_numerics_failure", as: Failure.self)
        let count = try native.function("simsiam_numerics_check_count", as: LibraryEntryPoints.Int64Getter.self)()
        let entry = try native.function("simsiam_numerics_check", as: CheckEntry.self)
        checks = (0..<max(count, 0)).map { index in
            var kernel: UnsafePointer<CChar>?, origin: UnsafePointer<CChar>?, tensor: UnsafePointer<CChar>?
            entry(index, &kernel, &origin, &tensor)
            return (kernel.map { String(cString: $0) } ?? "kernel?", origin.map { String(cString: $0) } ?? "",
                    tensor.map { String(cString: $0) } ?? "check \(index)")
        }
    }

    /// What stopped the calling thread's last train step or features call, if a check failed.
    /// Must run on the thread that made the call (the library keeps one report per thread).
    func lastFailure() -> NonFiniteValue? {
        var element: Int64 = -1
        var value = 0.0
        let check = Int(failure(&element, &value))
        guard check >= 0 else { return nil }
        let row = check < checks.count ? checks[check] : (kernel: "kernel?", origin: "", tensor: "check \(check)")
        return NonFiniteValue(check: check, kernel: row.kernel, origin: row.origin, tensor: row.tensor,
                              element: Int(element), value: value)
    }
}

extension ModelLibrary {
    /// Whether the library was built with `checkNumerics` (every kernel's outputs
    /// are checked, and a non-finite value makes `trainStep` and `features` throw).
    public var checksNumerics: Bool { numerics != nil }

    /// The number of tensor checks in a check-numerics build (0 otherwise).
    public var numericsCheckCount: Int { numerics?.checks.count ?? 0 }
}
