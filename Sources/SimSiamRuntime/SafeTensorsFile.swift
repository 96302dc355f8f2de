/// The contents of a safetensors file: named tensors and string metadata.
public struct SafeTensorsFile: Sendable {
    /// The tensors, in the order of their data in the file.
    public var tensors: [(name: String, tensor: HostTensor)]
    /// The `__metadata__` entries (empty when the file has none).
    public var metadata: [String: String]

    /// Creates file contents from tensors (in order) and metadata.
    public init(tensors: [(name: String, tensor: HostTensor)], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> HostTensor? {
        tensors.first { $0.name == name }?.tensor
    }

    /// The tensor names, in file order.
    public var names: [String] { tensors.map(\.name) }
}
