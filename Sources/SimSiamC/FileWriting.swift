import Foundation

/// Writes through a temporary file and rename, so readers never see half a file.
public func writeFileAtomically(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    try data.write(to: temporary)
    guard rename(temporary.path, url.path) == 0 else {
        throw CompileError("cannot move \(temporary.path) to \(url.path): \(String(cString: strerror(errno)))")
    }
}
