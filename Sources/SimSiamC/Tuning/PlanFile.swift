import Foundation

/// `plan.json`: the kernel plan of a tuning directory (`compile --out DIR` writes the plan its C
/// follows), and the file `--plan FILE` reads back after editing.
public enum PlanFile {
    public static let fileName = "plan.json"

    /// Reads a plan file.
    /// - Throws: `CompileError` naming the file and what is wrong with it.
    public static func read(_ path: String) throws -> KernelPlan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CompileError("--plan \(path): no such file; `simsiamc compile --out DIR` writes DIR/\(fileName) to start from")
        }
        do {
            return try KernelPlan.decode(data, file: "--plan \(path)")
        } catch let error as KernelPlanError {
            throw CompileError(error.description)
        }
    }
}
