import Foundation
import Glibc
import Synchronization

/// A shared library opened with `dlopen(RTLD_NOW | RTLD_LOCAL)`.
///
/// Libraries are kept in a process-wide registry keyed by path: loading the
/// same path twice returns the same object. Libraries are never closed,
/// because generated libraries start OpenMP worker threads that must not
/// outlive their code.
public final class NativeLibrary: @unchecked Sendable {
    /// The path the library was loaded from (as passed to `load(path:)`).
    public let path: String
    /// The handle `dlopen` returned.
    public let handle: UnsafeMutableRawPointer

    private static let registry = Mutex<[String: NativeLibrary]>([:])

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// Opens the library at `path`, or returns the already opened one. The first load sets how
    /// the heap keeps the kernels' scratch (`KernelHeap`).
    /// - Throws: `RuntimeError` carrying `dlerror()` when `dlopen` fails.
    public static func load(path: String) throws -> NativeLibrary {
        _ = KernelHeap.configured
        return try registry.withLock { libraries in
            if let library = libraries[path] { return library }
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                throw RuntimeError("cannot load library \(path): \(lastDynamicLinkerError())")
            }
            let library = NativeLibrary(path: path, handle: handle)
            libraries[path] = library
            return library
        }
    }

    /// Looks up `name` and reinterprets it as `type`, which must be a
    /// `@convention(c)` function type (or another pointer-sized type).
    /// - Throws: `RuntimeError` naming the symbol and the library path when
    ///   the symbol is missing.
    public func function<T>(_ name: String, as type: T.Type) throws -> T {
        precondition(
            MemoryLayout<T>.size == MemoryLayout<UnsafeRawPointer>.size,
            "\(T.self) is not a C function pointer type")
        guard let symbol = dlsym(handle, name) else {
            throw RuntimeError("library \(path) has no symbol '\(name)'")
        }
        return unsafeBitCast(symbol, to: T.self)
    }

    /// Whether the library exports `name`.
    public func hasSymbol(_ name: String) -> Bool {
        dlsym(handle, name) != nil
    }
}

private func lastDynamicLinkerError() -> String {
    guard let message = dlerror() else { return "unknown dlopen error" }
    return String(cString: message)
}
