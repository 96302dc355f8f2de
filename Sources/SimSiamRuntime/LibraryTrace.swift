import SimSiamABI

/// One place where a tracing build hands a written tensor to the runtime.
public struct TracePoint: Sendable, Equatable {
    /// The C function that wrote the tensor (`conv2d_fwd__backbone_conv1`, `sgd_update`).
    public let kernel: String
    /// Its layer and DSL line: `layer backbone.conv1, DSL SimSiamDSL/ResNet.swift:49`.
    public let origin: String
    /// `%3 y [256,32,28,28]` (IR value, kernel parameter, shape) or a state tensor's name.
    public let tensor: String
}

/// The trace hooks of a library compiled from C written for editing with
/// `-DSIMSIAM_TRACE` (`simsiam_trace_*`, `simsiam_set_trace`): after every kernel
/// call, each tensor the call wrote is handed to a Swift closure, which may read
/// and overwrite it.
public struct LibraryTrace {
    private typealias Hook = @convention(c) (UnsafeMutableRawPointer?, Int64, UnsafeMutableRawPointer?, Int64) -> Void
    private typealias SetTrace = @convention(c) (Hook?, UnsafeMutableRawPointer?) -> Void
    private typealias PointEntry = @convention(c) (
        Int64, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafeMutablePointer<UnsafePointer<CChar>?>?,
        UnsafeMutablePointer<UnsafePointer<CChar>?>?
    ) -> Void

    /// The trace points, in the order the entry points reach them (training step, SGD update, features).
    public let points: [TracePoint]
    private let setTrace: SetTrace

    /// nil for a library built without `-DSIMSIAM_TRACE`.
    public init?(library: ModelLibrary) throws {
        let native = library.native
        guard native.hasSymbol("simsiam_set_trace") else { return nil }
        setTrace = try native.function("simsiam_set_trace", as: SetTrace.self)
        let count = try native.function("simsiam_trace_count", as: LibraryEntryPoints.Int64Getter.self)()
        let entry = try native.function("simsiam_trace_point", as: PointEntry.self)
        points = (0..<max(count, 0)).map { index in
            var kernel: UnsafePointer<CChar>?, origin: UnsafePointer<CChar>?, tensor: UnsafePointer<CChar>?
            entry(index, &kernel, &origin, &tensor)
            return TracePoint(kernel: kernel.map { String(cString: $0) } ?? "kernel?", origin: origin.map { String(cString: $0) } ?? "",
                              tensor: tensor.map { String(cString: $0) } ?? "point \(index)")
        }
    }

    /// Runs `body` with `handler(point, tensor, numel)` called at every trace point the
    /// library reaches, on the calling thread; the hook is removed afterwards.
    /// The tensor holds `numel` scalars of the library's type and may be overwritten.
    public func run<T>(handler: @escaping (Int, UnsafeMutableRawPointer, Int) -> Void, _ body: () throws -> T) rethrows -> T {
        let box = Unmanaged.passRetained(HandlerBox(handler))
        defer {
            setTrace(nil, nil)
            box.release()
        }
        setTrace({ context, point, tensor, numel in
            guard let context, let tensor else { return }
            Unmanaged<HandlerBox>.fromOpaque(context).takeUnretainedValue().handler(Int(point), tensor, Int(numel))
        }, box.toOpaque())
        return try body()
    }

    private final class HandlerBox {
        let handler: (Int, UnsafeMutableRawPointer, Int) -> Void
        init(_ handler: @escaping (Int, UnsafeMutableRawPointer, Int) -> Void) { self.handler = handler }
    }
}

extension ModelLibrary {
    /// The ABI version (`SIMSIAM_ABI_VERSION`) this runtime drives; every loaded library has it.
    public static var abiVersion: Int { Int(LibraryABI.version) }
}
