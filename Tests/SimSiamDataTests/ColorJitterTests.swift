import Testing
@testable import SimSiamData

@Suite struct ColorJitterTests {
    func jittered(_ values: [Float], channels: Int, _ jitter: ColorJitter) -> [Float] {
        var image = values
        image.withUnsafeMutableBufferPointer {
            jitter.apply(to: $0, channels: channels, planeSize: values.count / channels)
        }
        return image
    }

    @Test func brightnessScalesAndClamps() {
        let out = jittered([0, 0.2, 0.8], channels: 1, ColorJitter(brightness: 1.5, contrast: 1, brightnessFirst: true))
        #expect(out == [0, 0.2 * 1.5, 1])
    }

    @Test func contrastBlendsWithTheMeanAndClamps() {
        // Mean 0.5; factor 2 doubles each distance from it.
        let out = jittered([0.1, 0.5, 0.9], channels: 1, ColorJitter(brightness: 1, contrast: 2, brightnessFirst: false))
        #expect(zip(out, [0, 0.5, 1] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func contrastOfColourUsesTheGreyOfRGB() {
        // One pixel: grey = 0.2989 * 1 + 0.587 * 0 + 0.114 * 0.5.
        let grey: Float = 0.2989 + 0.114 * 0.5
        let out = jittered([1, 0, 0.5], channels: 3, ColorJitter(brightness: 1, contrast: 0.5, brightnessFirst: true))
        let expected: [Float] = [1, 0, 0.5].map { 0.5 * $0 + 0.5 * grey }
        #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func theOrderMatters() {
        let values: [Float] = [0.1, 0.3, 0.95]
        let brightnessFirst = jittered(values, channels: 1, ColorJitter(brightness: 1.4, contrast: 0.6, brightnessFirst: true))
        let contrastFirst = jittered(values, channels: 1, ColorJitter(brightness: 1.4, contrast: 0.6, brightnessFirst: false))
        #expect(brightnessFirst != contrastFirst)
    }

    @Test func unitFactorsChangeNothing() {
        let values: [Float] = [0, 0.25, 0.5, 1]
        #expect(jittered(values, channels: 1, ColorJitter(brightness: 1, contrast: 1, brightnessFirst: true)) == values)
    }
}
