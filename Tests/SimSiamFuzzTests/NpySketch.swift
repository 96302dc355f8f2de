import Foundation
import SimSiamData
import SimSiamTestSupport

/// A .npy file as the fuzzer edits it: magic, version, header length and
/// each header field separately, then data whose length and values can lie
/// (a float out of [0, 1], NaN, an integer past 255).
struct NpySketch {
    var magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    var version: UInt8 = 1
    var descr = "|u1"
    var fortranOrder = "False"
    var shape: [Int]
    /// Replaces the whole shape text, e.g. "(2, 'x')".
    var shapeText: String?
    var extraItems = ""
    /// Edits to the header text: (offset, replacement of one character, nil deletes).
    var headerEdits: [(offset: Int, text: String?)] = []
    /// Added to the header length field.
    var headerLengthDelta = 0
    /// Bytes of data written; nil writes what the shape needs (capped).
    var dataLength: Int?
    /// One element written with this value (index, value), for range checks.
    var poke: (index: Int, value: Double)?

    /// The most data bytes written, whatever the shape claims.
    static let dataCap = 1 << 14

    init(descr: String, shape: [Int], version: UInt8 = 1) {
        self.descr = descr
        self.shape = shape
        self.version = version
    }

    /// Valid images of every layout and type, and a labels-like vector.
    static let seeds: [NpySketch] = [
        NpySketch(descr: "|u1", shape: [2, 3, 4]), NpySketch(descr: "<f4", shape: [1, 3, 2, 2]),
        NpySketch(descr: "<f8", shape: [2, 2, 2], version: 2), NpySketch(descr: "|u1", shape: [1, 2, 2, 3]),
        NpySketch(descr: "<i8", shape: [3]), NpySketch(descr: "<u2", shape: [1, 2, 2], version: 3),
        NpySketch(descr: "<f4", shape: [2, 1, 3, 3]),
    ]

    var elementSize: Int { max(1, Int(descr.dropFirst(2)) ?? 1) }

    /// The data bytes the shape needs, clamped to 0...dataCap (shapes may be
    /// negative or overflow; the sketch must not trap where the reader must not).
    var neededLength: Int {
        var product = elementSize
        for dimension in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return Self.dataCap }
            product = next
        }
        return min(max(product, 0), Self.dataCap)
    }

    var header: String {
        let dims = shapeText ?? "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        var text = Array("{'descr': '\(descr)', 'fortran_order': \(fortranOrder), 'shape': \(dims), \(extraItems)}")
        for edit in headerEdits where edit.offset < text.count {
            if let replacement = edit.text { text[edit.offset] = Character(replacement) } else { text.remove(at: edit.offset) }
        }
        return String(text)
    }

    var bytes: [UInt8] {
        let length = max(0, min(dataLength ?? neededLength, Self.dataCap))
        var data = [UInt8](repeating: 0, count: length)
        let count = length / max(1, elementSize)
        // In-range values: 0-255 for integers, [0, 1] for floats; one poked value may not be.
        for index in 0..<count {
            var value = Double(index * 37 % 256)
            if descr.contains("f") { value /= 255 }
            if let poke, poke.index == index { value = poke.value }
            write(value, at: index, into: &data)
        }
        var file = NumPyWriter.npy(header: header, data: data, version: version)
        file.replaceSubrange(0..<6, with: magic.prefix(6))
        if headerLengthDelta != 0 {
            let width = version == 1 ? 2 : 4
            let stored = file[8..<8 + width].reversed().reduce(0) { $0 << 8 | Int($1) }
            let lie = stored + headerLengthDelta
            file.replaceSubrange(8..<8 + width, with: (0..<width).map { UInt8(truncatingIfNeeded: lie >> (8 * $0)) })
        }
        return file
    }

    private func write(_ value: Double, at index: Int, into data: inout [UInt8]) {
        let size = elementSize, offset = index * size
        let bytes: [UInt8]
        switch (descr.dropFirst().first, size) {
        case ("f", 4): bytes = withUnsafeBytes(of: Float(value).bitPattern.littleEndian, Array.init)
        case ("f", _): bytes = withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
        default:
            let integer = value.isFinite ? Int64(max(min(value, 1e18), -1e18)) : 0
            bytes = withUnsafeBytes(of: integer.littleEndian, Array.init)
        }
        for byte in 0..<min(size, 8) where offset + byte < data.count { data[offset + byte] = bytes[byte] }
    }

    enum Mutation: CaseIterable {
        case magic, version, descr, fortranOrder, shape, shapeText, extraItems, headerEdit, headerLength, dataLength, poke
    }

    static let descrs = ["|u1", "<u1", "=u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f4", "<f8", ">f4", ">u2", "<f2",
                         "|b1", "<c8", "|O", "<U8", "|V4", "", "<", "<f", "<f44444444444444444444", "x"]
    static let dimensions = [0, 1, 2, 3, 4, 28, 255, 65_536, 1 << 30, 1 << 62, -1]

    /// Applies one random structural mutation.
    mutating func mutate(random: inout SplitMix64) {
        switch random.pick(Mutation.allCases) {
        case .magic:
            magic[random.nextInt(below: 6)] = UInt8(truncatingIfNeeded: random.next())
        case .version:
            version = random.pick([0, 1, 2, 3, 4, 255])
        case .descr:
            descr = random.pick(Self.descrs)
        case .fortranOrder:
            fortranOrder = random.pick(["True", "False", "0", "'False'", "None", "()"])
        case .shape:
            if random.chance(0.3) {
                shape = (0..<random.nextInt(in: 0...5)).map { _ in random.pick(Self.dimensions) }
            } else if !shape.isEmpty {
                shape[random.nextInt(below: shape.count)] = random.pick(Self.dimensions)
            }
        case .shapeText:
            shapeText = random.pick(["()", "(,)", "[2, 3]", "(2, 'x')", "(2, 3", "((2,), 3)", "(99999999999999999999,)", "(2L, 3L, 4L)",
                                     "(" + String(repeating: "(", count: 40), "(2,, 3)", "(-3, 2, 2)", "(1, 2, 2, 3, 4)"])
        case .extraItems:
            extraItems = random.pick(["'extra': 1, ", "'descr': '<f8', ", "'shape': (1,), ", "None: 2, ", "'k': [1, (2, {'a': True})], "])
        case .headerEdit:
            headerEdits.append((random.nextInt(below: 80), random.chance(0.3) ? nil : random.pick(["{", "}", "(", ")", "'", "\"", ":", ",",
                                                                                                "\\", "\n", "\u{0}", "9", "-", "L", " "])))
        case .headerLength:
            headerLengthDelta = random.pick([1, -1, 64, -64, 100_000, -1_000, Int(Int32.max)])
        case .dataLength:
            let needed = neededLength
            dataLength = random.pick([0, 1, needed - 1, needed + 1, needed / 2, needed + min(elementSize, 8)])
        case .poke:
            poke = (random.nextInt(below: 8), random.pick([-1, 256, 1.5, -0.01, 1.002, 1.001, .nan, .infinity, -.infinity, 1e30, 255]))
        }
    }
}
