import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whole-file writes that readers never see half done: the bytes go to a
/// temporary file in the same directory, are flushed to the disk, and the
/// temporary is renamed over the target. On any failure (a full disk, a
/// file-size limit, a read-only directory) the temporary is removed, the old
/// file is left as it was, and the error names the file and the system's reason.
public enum AtomicFile {
    /// Replaces `url` with `data` atomically.
    /// - Throws: `RuntimeError` naming `url`, the bytes written and the reason.
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        func failure(_ what: String, _ code: Int32) -> RuntimeError {
            unlink(temporary.path)
            return RuntimeError("cannot write \(url.path): \(what): \(String(cString: strerror(code))); the previous file, if any, is unchanged")
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary.lastPathComponent)", errno) }
        var written = 0
        let outcome: Int32? = data.withUnsafeBytes { raw in
            while written < raw.count {
                let count = Glibc.write(descriptor, raw.baseAddress! + written, raw.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += count
            }
            return fsync(descriptor) == 0 ? nil : errno
        }
        if let code = outcome {
            close(descriptor)
            throw failure("wrote \(written) of \(data.count) bytes", code)
        }
        guard close(descriptor) == 0 else { throw failure("closing after \(data.count) bytes", errno) }
        guard rename(temporary.path, url.path) == 0 else { throw failure("renaming \(temporary.lastPathComponent) into place", errno) }
    }
}
