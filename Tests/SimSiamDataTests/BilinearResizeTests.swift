import Testing
@testable import SimSiamData

@Suite struct BilinearResizeTests {
    func resize(_ pixels: [UInt8], channels: Int = 1, height: Int, width: Int, crop: CropRect,
        to outputHeight: Int, _ outputWidth: Int, mirrored: Bool = false) -> [Float] {
        var output = [Float](repeating: .nan, count: channels * outputHeight * outputWidth)
        pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                BilinearResize.resizedCrop(
                    source.baseAddress!, channels: channels, height: height, width: width, crop: crop,
                    outputHeight: outputHeight, outputWidth: outputWidth, mirrored: mirrored,
                    into: destination.baseAddress!)
            }
        }
        return output
    }

    @Test func anIdentityCropReturnsTheImage() {
        let image = ImageFixtures.random(count: 1, channels: 3, side: 12)
        let output = resize(image.pixels, channels: 3, height: 12, width: 12,
            crop: CropRect(top: 0, left: 0, height: 12, width: 12), to: 12, 12)
        #expect(output == image.pixels.map { Float($0) / 255 })
    }

    @Test func aSameSizeCropCopiesItsWindow() {
        let image = ImageFixtures.random(count: 1, side: 10)
        let output = resize(image.pixels, height: 10, width: 10, crop: CropRect(top: 2, left: 3, height: 4, width: 5), to: 4, 5)
        let expected = (2..<6).flatMap { y in (3..<8).map { x in Float(image.pixels[y * 10 + x]) / 255 } }
        #expect(output == expected)
    }

    @Test func upsamplingSamplesPixelCentres() {
        // PyTorch: F.interpolate([[0, 1]], size=4, mode="bilinear", align_corners=False) = [0, .25, .75, 1].
        let output = resize([0, 255], height: 1, width: 2, crop: CropRect(top: 0, left: 0, height: 1, width: 2), to: 1, 4)
        #expect(output == [0, 0.25, 0.75, 1])
        let mirrored = resize([0, 255], height: 1, width: 2, crop: CropRect(top: 0, left: 0, height: 1, width: 2),
            to: 1, 4, mirrored: true)
        #expect(mirrored == [1, 0.75, 0.25, 0])
    }

    @Test func aConstantImageStaysExactlyConstant() {
        let output = resize([UInt8](repeating: 200, count: 49), height: 7, width: 7,
            crop: CropRect(top: 1, left: 2, height: 3, width: 5), to: 13, 11)
        #expect(output.allSatisfy { $0 == Float(200) / 255 })
    }
}
