import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `dlopen`ed shared library, kept open for the life of the process.
///
/// There is deliberately no `dlclose`: unloading a library whose OpenMP
/// threads have started is a known source of crashes.
final class LoadedLibrary: @unchecked Sendable {
    let path: String
    private let handle: UnsafeMutableRawPointer

    /// Loads `path` with `RTLD_NOW`, so unresolved symbols fail here rather than at a call.
    init(path: String) throws {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError(message: Self.lastError() ?? "dlopen failed for \(path)")
        }
        self.path = path
        self.handle = handle
    }

    /// Looks up `name` and casts it to the C function type `type`.
    func function<Function>(_ name: String, as type: Function.Type) throws -> Function {
        _ = dlerror()
        guard let symbol = dlsym(handle, name) else {
            throw LoadError(message: Self.lastError() ?? "symbol \(name) not found in \(path)")
        }
        return unsafeBitCast(symbol, to: type)
    }

    struct LoadError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private static func lastError() -> String? {
        guard let message = dlerror() else { return nil }
        return String(cString: message)
    }
}
