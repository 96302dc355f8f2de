import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Moves a freshly compiled library to its final name without ever replacing a file.
///
/// A process that has the final `.so` loaded crashes if the file is rewritten,
/// so publishing uses `link` (fails with EEXIST) rather than `rename` (replaces).
enum LibraryPublisher {
    enum Outcome: Equatable {
        /// This call created the final file.
        case published
        /// Another builder published first; its (identical-key) file is kept.
        case alreadyPresent
    }

    /// Hard-links `temporary` to `final`, then always removes `temporary`.
    static func publish(temporary: String, final: String) throws -> Outcome {
        defer { unlink(temporary) }
        if link(temporary, final) == 0 { return .published }
        let code = errno
        if code == EEXIST { return .alreadyPresent }
        throw ToolchainError.fileSystem(
            "cannot publish \(temporary) as \(final): \(String(cString: strerror(code)))")
    }

    /// Renames `temporary` over `final`: for replacing a broken library only.
    /// The rename swaps the directory entry; a process that has the old file
    /// loaded keeps its inode, so nothing it runs is rewritten.
    static func replace(temporary: String, final: String) throws {
        guard rename(temporary, final) == 0 else {
            throw ToolchainError.fileSystem(
                "cannot replace \(final) with \(temporary): \(String(cString: strerror(errno)))")
        }
    }

    /// A name in the same directory as `final` that no other process or thread will pick.
    static func temporaryPath(for final: String) -> String {
        "\(final).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }
}
