import Testing
@testable import SimSiamRuntime

@Suite struct HostTensorTests {
    @Test func convertsBetweenDTypes() {
        let tensor = HostTensor(shape: [3], doubles: [1.5, -2.25, 3])
        #expect(tensor.dtype == .float64)
        #expect(tensor.floats == [1.5, -2.25, 3])
        #expect(tensor.int64s == [1, -2, 3])
        #expect(tensor.converted(to: .float32) == HostTensor(shape: [3], floats: [1.5, -2.25, 3]))
        #expect(HostTensor(shape: [], int64s: [7]).doubles == [7])
    }

    @Test func int64ConversionClampsAndMapsNaNToZero() {
        let tensor = HostTensor(shape: [3], doubles: [.nan, 1e300, -1e300])
        #expect(tensor.int64s == [0, .max, .min])
    }

    @Test func scalarShapeHasOneElement() {
        #expect(HostTensor.elementCount(of: []) == 1)
        #expect(HostTensor(shape: [], floats: [2]).count == 1)
    }

    @Test func copiesRawBytes() {
        let values: [Int64] = [1, -2, 3, 4]
        let tensor = values.withUnsafeBytes { HostTensor(shape: [2, 2], dtype: .int64, copying: $0) }
        #expect(tensor.int64s == values)
        #expect(tensor.shape == [2, 2])
    }
}
