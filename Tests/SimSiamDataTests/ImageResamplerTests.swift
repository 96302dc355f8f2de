import Testing
@testable import SimSiamData

/// Bringing images to the model's shape: channel conversion, the centred
/// crop to the target's aspect ratio, area averaging and bilinear growth.
@Suite struct ImageResamplerTests {
    func convert(_ pixels: [UInt8], _ from: ImageShape, _ to: ImageShape) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: to.byteCount)
        pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { ImageResampler.convert(source, from: from, to: to, into: $0) }
        }
        return output
    }

    @Test func theSameShapeIsCopiedUnchanged() {
        let pixels: [UInt8] = (0..<27).map { UInt8($0 * 9) }
        let shape = ImageShape(channels: 3, height: 3, width: 3)
        #expect(convert(pixels, shape, shape) == pixels)
    }

    @Test func greyBecomesThreeEqualChannels() {
        #expect(convert([10, 20, 30, 40], ImageShape(channels: 1, height: 2, width: 2), ImageShape(channels: 3, height: 2, width: 2))
            == [10, 20, 30, 40, 10, 20, 30, 40, 10, 20, 30, 40])
    }

    /// PIL's "L" conversion of pure red, green, blue and white: 76, 150, 29, 255.
    @Test func rgbBecomesPILsLuma() {
        let planes: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]  // R plane, G plane, B plane of 4 pixels
        #expect(convert(planes, ImageShape(channels: 3, height: 1, width: 4), ImageShape(channels: 1, height: 1, width: 4))
            == [76, 150, 29, 255])
    }

    @Test func shrinkingAveragesEachBlock() {
        let pixels: [UInt8] = [0, 10, 100, 110, 20, 30, 120, 130, 200, 210, 50, 60, 220, 230, 70, 80]
        #expect(convert(pixels, ImageShape(channels: 1, height: 4, width: 4), ImageShape(channels: 1, height: 2, width: 2))
            == [15, 115, 215, 65])
    }

    /// A 2x6 image into a square: the centred 2x2 (columns 2 and 3) is kept, the sides are cropped.
    @Test func aWideImageIsCroppedToTheCentre() {
        let pixels: [UInt8] = [1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]
        #expect(convert(pixels, ImageShape(channels: 1, height: 2, width: 6), ImageShape(channels: 1, height: 2, width: 2))
            == [3, 4, 13, 14])
    }

    @Test func growingKeepsAConstantImageConstantAndInterpolatesARamp() {
        #expect(convert([90, 90, 90, 90], ImageShape(channels: 1, height: 2, width: 2), ImageShape(channels: 1, height: 5, width: 5))
            == [UInt8](repeating: 90, count: 25))
        // Two pixels to four: centres at -0.25, 0.25, 0.75, 1.25 of the source, clamped: 0, 25, 75, 100.
        #expect(convert([0, 100], ImageShape(channels: 1, height: 1, width: 2), ImageShape(channels: 1, height: 1, width: 4))
            == [0, 25, 75, 100])
    }

    @Test func aLabeledSetConvertsEveryImageAndKeepsTheLabels() {
        let images = LabeledImages(count: 2, channels: 1, height: 2, width: 2, pixels: [0, 0, 0, 0, 8, 8, 8, 8], labels: [4, 7])
        let converted = ImageResampler.convert(images, to: ImageShape(channels: 3, height: 1, width: 1))
        #expect(converted.pixels == [0, 0, 0, 8, 8, 8] && converted.labels == [4, 7] && converted.shape.description == "3x1x1")
    }
}
