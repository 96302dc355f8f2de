// The DSL's public API speaks in IR types (Shape, Initializer, Graph), so a
// file that writes layers needs only `import SimSiamDSL`.
@_exported import SimSiamIR
