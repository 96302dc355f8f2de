import Foundation

/// The Python literals a .npy header is written in: a dict of strings,
/// booleans, integers and tuples. Parsed, never evaluated.
enum PythonLiteral: Equatable {
    case string(String)
    case boolean(Bool)
    case integer(Int)
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dictionary([(key: String, value: PythonLiteral)])
    case none

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool { a.description == b.description }

    /// Nesting deeper than this is refused, so a header of 60,000 '(' cannot exhaust the stack.
    static let maximumDepth = 16

    /// Parses `text` as one literal followed only by whitespace.
    /// - Throws: `LiteralError` saying what is wrong and at which byte.
    static func parse(_ text: [UInt8]) throws(LiteralError) -> PythonLiteral {
        var parser = Parser(bytes: text)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == text.count else { throw parser.error("unexpected text after the literal") }
        return value
    }

    /// Python's spelling of the literal, for messages.
    var description: String {
        switch self {
        case .string(let text): "'\(text)'"
        case .boolean(let value): value ? "True" : "False"
        case .integer(let value): "\(value)"
        case .tuple(let items): "(" + items.map(\.description).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .dictionary(let items): "{" + items.map { "'\($0.key)': \($0.value.description)" }.joined(separator: ", ") + "}"
        case .none: "None"
        }
    }
}

/// Why a literal did not parse.
struct LiteralError: Error {
    let message: String
}

private struct Parser {
    let bytes: [UInt8]
    var position = 0

    func error(_ problem: String) -> LiteralError { LiteralError(message: "\(problem) at byte \(position)") }

    mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    /// Consumes `byte` if it comes next (after whitespace).
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    mutating func value(depth: Int) throws(LiteralError) -> PythonLiteral {
        guard depth < PythonLiteral.maximumDepth else { throw error("nesting deeper than \(PythonLiteral.maximumDepth)") }
        skipSpace()
        guard position < bytes.count else { throw error("the header ends where a value should be") }
        switch bytes[position] {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "("): return .tuple(try items(closing: UInt8(ascii: ")"), depth: depth))
        case UInt8(ascii: "["): return .list(try items(closing: UInt8(ascii: "]"), depth: depth))
        case UInt8(ascii: "{"): return try dictionary(depth: depth)
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"): return .integer(try integer())
        default:
            for (word, literal) in [("True", PythonLiteral.boolean(true)), ("False", .boolean(false)), ("None", .none)]
            where bytes[position...].starts(with: word.utf8) {
                position += word.utf8.count
                return literal
            }
            throw error("unexpected character '\(printable(bytes[position]))'")
        }
    }

    mutating func string() throws(LiteralError) -> String {
        let quote = bytes[position]
        position += 1
        let start = position
        while position < bytes.count, bytes[position] != quote {
            // numpy writes plain ASCII names; an escape means a name this reader has no use for.
            guard bytes[position] != UInt8(ascii: "\\") else { throw error("escaped character in a string") }
            position += 1
        }
        guard position < bytes.count else { throw error("unterminated string") }
        defer { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    mutating func integer() throws(LiteralError) -> Int {
        var negative = false
        if bytes[position] == UInt8(ascii: "-") || bytes[position] == UInt8(ascii: "+") {
            negative = bytes[position] == UInt8(ascii: "-")
            position += 1
        }
        var value = 0, digits = 0
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { throw error("integer too large") }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw error("a sign without digits") }
        // Python 2's numpy wrote long integers with an L suffix: (60000L, 28L, 28L).
        if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }
        return negative ? -value : value
    }

    mutating func items(closing: UInt8, depth: Int) throws(LiteralError) -> [PythonLiteral] {
        position += 1
        var items: [PythonLiteral] = []
        while !take(closing) {
            items.append(try value(depth: depth + 1))
            if take(closing) { break }
            guard take(UInt8(ascii: ",")) else { throw error("expected ',' or '\(printable(closing))'") }
        }
        return items
    }

    mutating func dictionary(depth: Int) throws(LiteralError) -> PythonLiteral {
        position += 1
        var items: [(key: String, value: PythonLiteral)] = []
        while !take(UInt8(ascii: "}")) {
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a quoted key")
            }
            let key = try string()
            guard take(UInt8(ascii: ":")) else { throw error("expected ':' after key '\(key.prefix(40))'") }
            items.append((key, try value(depth: depth + 1)))
            if take(UInt8(ascii: "}")) { break }
            guard take(UInt8(ascii: ",")) else { throw error("expected ',' or '}'") }
        }
        return .dictionary(items)
    }

    func printable(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "\\x%02x", byte)
    }
}
