import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What identifies this CPU for code built with `-march=native`.
public enum CPUIdentity {
    /// The `model name` and `flags` (or ARM `Features`) lines of `/proc/cpuinfo`,
    /// plus the machine architecture; read once per process.
    public static let current: String = read(cpuinfo: readCPUInfo())

    static func read(cpuinfo: String) -> String {
        var picked: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingCharacters(in: .whitespaces)
            guard ["model name", "flags", "Features"].contains(field), picked[field] == nil else { continue }
            picked[field] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let fields = picked.keys.sorted().map { "\($0): \(picked[$0]!)" }
        return (["arch: \(machineArchitecture())"] + fields).joined(separator: "\n")
    }

    // String(contentsOfFile:) stops after ~4 KiB of a /proc file; read it as a stream.
    private static func readCPUInfo() -> String {
        guard let handle = FileHandle(forReadingAtPath: "/proc/cpuinfo") else { return "" }
        defer { try? handle.close() }
        return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    }

    private static func machineArchitecture() -> String {
        var info = utsname()
        guard uname(&info) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &info.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
