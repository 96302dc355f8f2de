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
    /// The statements, indented by two spaces. For a kernel with a `shared`
    /// body, they are written in terms of the shared body's size names.
    var body: String
    /// Functions the kernel calls (GEMM packing and stores), written with
    /// `$KERNEL` where the kernel's final name goes.
    var helpers: [String] = []
    /// Functions the kernel calls that other kernels may call too, under a name that says
    /// what they do (`gemm_pack_a__ld128`): the program defines each once.
    var sharedHelpers: [SharedHelper] = []
    /// Set for memory-bound kernels: many layers run the same loops on
    /// different sizes, so the body is emitted once and this kernel is a
    /// one-line wrapper that passes its sizes.
    var shared: SharedBody?

    /// The C parameter names, in order (`x` of `const float* restrict x`).
    var parameterNames: [String] {
        parameters.map { String($0.split(separator: " ").last ?? "") }
    }

    private var commentBlock: String {
        "/* \(comment.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n   ")) */\n"
    }

    var definition: String {
        if let shared {
            // The per-layer name stays a function of its own: profiles time it, verify
            // names it when a tensor it wrote departs, and an edit can specialise one layer.
            let arguments = shared.sizes.map { "\($0.value)" } + parameterNames
            return commentBlock + "static inline void \(name)(\(parameters.joined(separator: ", "))) "
                + "{ \(shared.name)(\(arguments.joined(separator: ", "))); }\n"
        }
        return helpers.map { $0.replacingOccurrences(of: "$KERNEL", with: name) + "\n" }.joined()
            + commentBlock
            + "static void \(name)(\(parameters.joined(separator: ", "))) {\n\(body.replacingOccurrences(of: "$KERNEL", with: name))}\n"
    }

    /// The shape-generic function behind a kernel with a `shared` body.
    var sharedDefinition: SharedDefinition? {
        shared.map { SharedDefinition(name: $0.name, comment: $0.comment, parameters: $0.sizes.map { "int64_t \($0.name)" } + parameters, body: body) }
    }
}

/// What makes a memory-bound kernel's body shape-generic: its sizes become
/// parameters (`n`, or `N, C, HW` for BN), named as the body uses them.
struct SharedBody: Hashable {
    struct Size: Hashable {
        var name: String
        var value: Int
    }
    /// `accumulate_grad`: the op without the layer (the table may add `_2` when
    /// another body of the same op differs, e.g. in epsilon).
    var name: String
    /// The math and the memory layout, for the shared function's comment.
    var comment: String
    var sizes: [Size]
}

/// A helper function named after what it does, so that one name is one text.
struct SharedHelper: Hashable {
    var name: String
    var definition: String
}

/// A shared body as the C file holds it: one function, called by each layer's wrapper.
struct SharedDefinition: Hashable {
    var name: String
    var comment: String
    var parameters: [String]
    var body: String

    var definition: String {
        "/* \(comment.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n   ")) */\n"
            + "static void \(name)(\(parameters.joined(separator: ", "))) {\n\(body)}\n"
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
