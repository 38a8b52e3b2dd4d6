/// A parsed JSON document, kept generic so configuration can be validated key by key with
/// messages that name the key, instead of the decoder's first complaint.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try container.decode([String: JSONValue].self))
    }

    /// Parses a JSON document (RFC 8259), refusing what would silently lose information: a key
    /// given twice in one object (which value wins is up to each parser) and a number beyond
    /// the range of a double (`1e400`). Every error names its line and column, and the key
    /// when one is to blame.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
            var parser = JSONParser(buffer)
            return try parser.document()
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Why bytes were refused as JSON, and where: the line and column a person's editor shows.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not JSON at all: a stray character, an unterminated string, the end came too soon.
        case syntax
        /// An object names the same key twice.
        case duplicateKey
        /// A number a double cannot hold (its magnitude is above 1.8e308).
        case numberOutOfRange
        /// Arrays and objects nested deeper than ``JSONParser/maxDepth``.
        case tooDeep
    }

    public var kind: Kind
    /// What is wrong, without the position.
    public var message: String
    /// 1-based line of the offending byte.
    public var line: Int
    /// 1-based column of the offending byte, in characters (a tab is one).
    public var column: Int
    /// The key the error is about, as a path from the top (`sample_rate`, `a.b[2]`), for a
    /// duplicate key or a number out of range.
    public var path: String?

    public var description: String {
        let position = "line \(line), column \(column)"
        switch kind {
        case .syntax, .tooDeep: return "not valid JSON at \(position): \(message)"
        case .duplicateKey, .numberOutOfRange: return "\(position): \(message)"
        }
    }
}

/// A recursive-descent JSON parser over bytes. No Foundation: JSONDecoder says neither where
/// a document is broken nor that a key came twice, and reports `1e400` as a type mismatch.
struct JSONParser {
    /// Deeper documents are refused rather than risk the stack (no configuration nests past 2).
    static let maxDepth = 256

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    /// Arrays and objects open around the current position.
    private var depth = 0
    /// Keys and indices from the top down to the current value, for errors that blame a key.
    private var path: [PathComponent] = []

    private enum PathComponent {
        case key(String)
        case index(Int)
    }

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func document() throws(JSONSyntaxError) -> JSONValue {
        // A UTF-8 byte order mark, as some Windows editors write.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        skipWhitespace()
        if position == bytes.count {
            throw failure(.syntax, bytes.isEmpty ? "the document is empty" : "the document holds only blanks")
        }
        let value = try self.value()
        skipWhitespace()
        if position < bytes.count {
            throw failure(.syntax, "unexpected \(describe(bytes[position])) after the document")
        }
        return value
    }

    // MARK: Values

    private mutating func value() throws(JSONSyntaxError) -> JSONValue {
        guard position < bytes.count else { throw failure(.syntax, "unexpected end of the document: a value is missing") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure(.syntax, "unexpected \(describe(bytes[position])) where a value should start")
        }
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        position += 1
        var members: [String: JSONValue] = [:]
        var keyPositions: [String: Int] = [:]
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            position += 1
            leave()
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw failure(.syntax, expected: "a key in double quotes") }
            let keyPosition = position
            let key = try string()
            if let first = keyPositions[key] {
                let (line, column) = Self.lineAndColumn(of: first, in: bytes)
                path.append(.key(key))
                throw failure(.duplicateKey, "duplicate key \"\(key)\" (first given at line \(line), column \(column)): give each key once", at: keyPosition)
            }
            keyPositions[key] = keyPosition
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw failure(.syntax, expected: "':' after the key \"\(key)\"") }
            position += 1
            skipWhitespace()
            path.append(.key(key))
            members[key] = try value()
            path.removeLast()
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { position += 1; continue }
            if peek(UInt8(ascii: "}")) { position += 1; break }
            throw failure(.syntax, expected: "',' or '}' after the value of \"\(key)\"")
        }
        leave()
        return .object(members)
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            position += 1
            leave()
            return .array(items)
        }
        while true {
            skipWhitespace()
            path.append(.index(items.count))
            items.append(try value())
            path.removeLast()
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { position += 1; continue }
            if peek(UInt8(ascii: "]")) { position += 1; break }
            throw failure(.syntax, expected: "',' or ']' in an array")
        }
        leave()
        return .array(items)
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maxDepth { throw failure(.tooDeep, "arrays and objects nested more than \(Self.maxDepth) deep") }
    }

    private mutating func leave() { depth -= 1 }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        let start = word.utf8Start
        for i in 0..<count {
            guard position + i < bytes.count, bytes[position + i] == start[i] else {
                throw failure(.syntax, "unexpected \(position + i < bytes.count ? describe(bytes[position + i]) : "end of the document") in '\(word)'", at: position + i)
            }
        }
        position += count
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`, converted by the standard library.
    private mutating func number() throws(JSONSyntaxError) -> Double {
        let start = position
        if peek(UInt8(ascii: "-")) { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw failure(.syntax, expected: "a digit in a number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw failure(.syntax, "a number must not start with 0 followed by digits") }
        } else {
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if peek(UInt8(ascii: ".")) {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw failure(.syntax, expected: "a digit after the decimal point") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            position += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw failure(.syntax, expected: "a digit in the exponent") }
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            let shown = text.count > 40 ? String(text.prefix(37)) + "..." : text
            throw failure(.numberOutOfRange, "the number \(shown) is out of range: a double holds magnitudes up to 1.8e308", at: start)
        }
        return value
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        position += 1 // the opening quote
        var scalars = String.UnicodeScalarView()
        while true {
            guard position < bytes.count else { throw failure(.syntax, "unterminated string: the document ends before its closing '\"'") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                scalars.append(try escape())
            case 0..<0x20:
                throw failure(.syntax, "\(describe(byte)) inside a string: write it as an escape such as \\n")
            case 0..<0x80:
                scalars.append(Unicode.Scalar(byte))
                position += 1
            default:
                scalars.append(try multibyte())
            }
        }
    }

    private mutating func escape() throws(JSONSyntaxError) -> Unicode.Scalar {
        position += 1
        guard position < bytes.count else { throw failure(.syntax, "unterminated string: the document ends in an escape") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try hex4()
            if (0xD800..<0xDC00).contains(high) {
                guard peek(UInt8(ascii: "\\")), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                    throw failure(.syntax, "a \\u escape of a high surrogate must be followed by its low surrogate")
                }
                position += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else {
                    throw failure(.syntax, "a \\u escape of a high surrogate must be followed by its low surrogate", at: position - 6)
                }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
            }
            guard let scalar = Unicode.Scalar(high) else {
                throw failure(.syntax, "a low surrogate \\u escape without its high surrogate", at: position - 6)
            }
            return scalar
        default:
            throw failure(.syntax, "unknown escape '\\\(describeRaw(byte))' in a string", at: position - 2)
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count, let digit = hexValue(bytes[position]) else {
                throw failure(.syntax, expected: "four hex digits after \\u")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// One UTF-8 encoded scalar of 2 to 4 bytes, validated (no overlong forms, no surrogates).
    private mutating func multibyte() throws(JSONSyntaxError) -> Unicode.Scalar {
        let lead = bytes[position]
        let count: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: count = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: count = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: count = 4; value = UInt32(lead & 0x07)
        default: throw failure(.syntax, "invalid UTF-8 (byte 0x\(hex2(lead)))")
        }
        guard position + count <= bytes.count else { throw failure(.syntax, "invalid UTF-8: the document ends inside a character") }
        for i in 1..<count {
            let next = bytes[position + i]
            guard next & 0xC0 == 0x80 else { throw failure(.syntax, "invalid UTF-8 (byte 0x\(hex2(next)))", at: position + i) }
            value = value << 6 | UInt32(next & 0x3F)
        }
        let minimum: UInt32 = count == 2 ? 0x80 : count == 3 ? 0x800 : 0x10000
        guard value >= minimum, let scalar = Unicode.Scalar(value) else {
            throw failure(.syntax, "invalid UTF-8 (an overlong form or a surrogate)")
        }
        position += count
        return scalar
    }

    // MARK: Bytes

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func peek(_ byte: UInt8) -> Bool {
        position < bytes.count && bytes[position] == byte
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }

    /// A byte as a person reads it in a message: `'x'`, or its hex code when unprintable.
    private func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(describeRaw(byte))'" : "byte 0x\(hex2(byte))"
    }

    private func describeRaw(_ byte: UInt8) -> String {
        (0x20..<0x7F).contains(byte) ? String(Unicode.Scalar(byte)) : "0x" + hex2(byte)
    }

    // MARK: Errors

    private func failure(_ kind: JSONSyntaxError.Kind, expected what: String) -> JSONSyntaxError {
        let found = position < bytes.count ? describe(bytes[position]) : "the end of the document"
        return failure(kind, "expected \(what), found \(found)")
    }

    private func failure(_ kind: JSONSyntaxError.Kind, _ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let (line, column) = Self.lineAndColumn(of: offset ?? position, in: bytes)
        let blamed: String?
        switch kind {
        case .duplicateKey, .numberOutOfRange: blamed = renderedPath
        case .syntax, .tooDeep: blamed = nil
        }
        return JSONSyntaxError(kind: kind, message: message, line: line, column: column, path: blamed)
    }

    private var renderedPath: String? {
        guard !path.isEmpty else { return nil }
        var out = ""
        for component in path {
            switch component {
            case .key(let key): out += out.isEmpty ? key : "." + key
            case .index(let index): out += "[\(index)]"
            }
        }
        return out
    }

    /// 1-based line and column of a byte offset; columns count characters (UTF-8 lead bytes),
    /// not bytes, as editors do.
    static func lineAndColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        var i = 0
        let end = min(offset, bytes.count)
        while i < end {
            let byte = bytes[i]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return (line, column)
    }
}
