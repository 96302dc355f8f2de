import Foundation
import SimSiamIR

/// One generated C function: a kernel computes one node of the graph.
struct Kernel: Hashable {
    /// `conv2d_fwd__backbone_layer2_0_conv1`: op, then the layer.
    var name: String
    /// Shapes, op attributes and DSL origin, as a block comment.
    var comment: String
    /// C parameter declarations, e.g. `const float* restrict x`.
    var parameters: [String]
    /// The statements, indented by two spaces.
    var body: String
    /// Functions the kernel calls (GEMM packing and stores), written with
    /// `$KERNEL` where the kernel's final name goes.
    var helpers: [String] = []

    var definition: String {
        helpers.map { $0.replacingOccurrences(of: "$KERNEL", with: name) + "\n" }.joined()
            + "/* \(comment.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n   ")) */\n"
            + "static void \(name)(\(parameters.joined(separator: ", "))) {\n\(body.replacingOccurrences(of: "$KERNEL", with: name))}\n"
    }
}

/// Makes C identifiers out of layer paths: `backbone.layer2.0.conv1` -> `backbone_layer2_0_conv1`.
func cIdentifier(_ text: String) -> String {
    let mapped = text.map { $0.isLetter || $0.isNumber ? $0 : "_" }
    var identifier = String(mapped)
    while identifier.contains("__") { identifier = identifier.replacingOccurrences(of: "__", with: "_") }
    if let first = identifier.first, first.isNumber { identifier = "_" + identifier }
    return identifier
}

/// Indented C source assembled line by line.
struct CLines {
    private(set) var text = ""
    private var depth = 1

    mutating func line(_ code: String) {
        text += String(repeating: "  ", count: depth) + code + "\n"
    }

    /// `header {` ... `}` with the body indented (a bare `{` ... `}` for an empty header).
    mutating func block(_ header: String, _ body: (inout CLines) -> Void) {
        line(header.isEmpty ? "{" : header + " {")
        depth += 1
        body(&self)
        depth -= 1
        line("}")
    }

    /// The lines of `other`, indented to continue at this depth.
    mutating func append(_ other: CLines) {
        for code in other.text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            text += String(repeating: "  ", count: depth - 1) + code + "\n"
        }
    }
}
