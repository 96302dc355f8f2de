/// The scalar type of the generated code. Float is the product; double
/// exists so finite-difference gradient checks are tight.
public enum Precision: String, Sendable, CaseIterable {
    case float32, float64

    /// The C spelling of the scalar type.
    public var cType: String { self == .float32 ? "float" : "double" }
    public var bytes: Int { self == .float32 ? 4 : 8 }

    /// A C literal of the scalar type.
    func literal(_ value: Double) -> String {
        var text = "\(value)"
        if !text.contains(".") && !text.contains("e") && !text.contains("inf") && !text.contains("nan") { text += ".0" }
        return self == .float32 ? text + "f" : text
    }

    /// sqrt for the scalar type.
    var sqrt: String { self == .float32 ? "sqrtf" : "sqrt" }
}
