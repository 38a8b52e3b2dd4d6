import Testing
@testable import VoltCore

/// A person edits `model_config.json` by hand, and the service refuses a bad one at start-up:
/// the message must say where the file is broken (line and column), which key is to blame, and
/// never guess between two values of one key.
@Suite("Configuration JSON errors")
struct ConfigJSONErrorTests {
    static func configError(_ text: String) -> ConfigError? {
        do {
            _ = try ModelConfig.parse(json: text, source: "model_config.json")
            return nil
        } catch {
            return error
        }
    }

    static func jsonError(_ text: String) -> JSONSyntaxError? {
        do {
            _ = try JSONValue.parse(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    // MARK: Duplicate keys

    @Test func aKeyGivenTwiceIsRefusedNamingTheKeyAndBothPlaces() throws {
        let text = """
            {
              "anomaly_threshold": 0.7,
              "window_size": 50,
              "sample_rate": 10,
              "window_size": 500
            }
            """
        let error = try #require(Self.configError(text))
        #expect(error.issues.count == 1, "\(error)")
        let issue = try #require(error.issues.first)
        #expect(issue.key == "window_size")
        #expect(issue.message == "line 5, column 3: duplicate key \"window_size\" (first given at line 3, column 3): give each key once")
        #expect(error.description.contains("  - window_size: line 5, column 3: duplicate key"), "\(error)")
    }

    @Test func aDuplicateInsideANestedObjectNamesItsPath() throws {
        let error = try #require(Self.jsonError(#"{"a": [0, {"b": 1, "b": 2}]}"#))
        #expect(error.kind == .duplicateKey)
        #expect(error.path == "a[1].b")
        #expect(error.line == 1 && error.column == 20)
    }

    @Test func theSameKeyInTwoObjectsIsNoDuplicate() throws {
        let value = try JSONValue.parse(Array(#"[{"k": 1}, {"k": 2}]"#.utf8))
        #expect(value == .array([.object(["k": .number(1)]), .object(["k": .number(2)])]))
    }

    // MARK: Numbers out of range

    @Test("a number a double cannot hold is refused naming the key", arguments: ["1e400", "-1e400", "1" + String(repeating: "0", count: 400)])
    func numberOutOfRange(number: String) throws {
        let text = "{\n  \"anomaly_threshold\": 0.7,\n  \"window_size\": 50,\n  \"sample_rate\": \(number)\n}"
        let error = try #require(Self.configError(text))
        #expect(error.issues.count == 1, "\(error)")
        let issue = try #require(error.issues.first)
        #expect(issue.key == "sample_rate")
        #expect(issue.message.hasPrefix("line 4, column 18: the number "), "\(issue)")
        #expect(issue.message.hasSuffix(" is out of range: a double holds magnitudes up to 1.8e308"), "\(issue)")
        #expect(!error.description.contains("typeMismatch") && !error.description.contains("Dictionary"), "\(error)")
    }

    @Test func aTinyNumberIsZeroNotAnError() throws {
        #expect(try JSONValue.parse(Array("1e-400".utf8)) == .number(0))
    }

    // MARK: Syntax errors have a position

    @Test("invalid JSON names its line and column", arguments: [
        ("{\n  \"anomaly_threshold\": 0.7,\n  \"window_size\": 50\n  \"sample_rate\": 10\n}", 4, 3, "expected ',' or '}' after the value of \"window_size\", found '\"'"),
        ("{\"anomaly_threshold\": 0.7,}", 1, 27, "expected a key in double quotes, found '}'"),
        ("{\"anomaly_threshold\" 0.7}", 1, 22, "expected ':' after the key \"anomaly_threshold\""),
        ("{\"window_size\": 050}", 1, 18, "must not start with 0"),
        ("{\"window_size\": .5}", 1, 17, "unexpected '.' where a value should start"),
        ("{\"window_size\": 5.}", 1, 19, "expected a digit after the decimal point"),
        ("{\"window_size\": tru}", 1, 20, "in 'true'"),
        ("{\"a\": \"x\ty\"}", 1, 9, "byte 0x09 inside a string"),
        ("{\"a\": \"\\q\"}", 1, 8, "unknown escape '\\q'"),
        ("{\"a\": \"\\ud800\"}", 1, 14, "followed by its low surrogate"),
        ("{\"a\": \"é\" x}", 1, 11, "expected ',' or '}'"),
        ("{\"a\": 1", 1, 8, "found the end of the document"),
        ("{\"a\": \"open", 1, 12, "unterminated string"),
        ("{} {}", 1, 4, "unexpected '{' after the document"),
        ("", 1, 1, "the document is empty"),
        ("  \n ", 2, 2, "only blanks"),
        ("anomaly_threshold = 0.7", 1, 1, "unexpected 'a' where a value should start"),
    ])
    func syntaxErrorPosition(text: String, line: Int, column: Int, fragment: String) throws {
        let error = try #require(Self.jsonError(text))
        #expect(error.kind == .syntax)
        #expect(error.line == line && error.column == column, "\(error)")
        #expect(error.message.contains(fragment), "\(error)")
        #expect(error.description == "not valid JSON at line \(line), column \(column): \(error.message)")
        #expect(error.path == nil)
        // And the configuration says the same, as a problem with the file as a whole.
        let config = try #require(Self.configError(text))
        #expect(config.issues == [.init(key: nil, message: error.description)])
    }

    @Test func invalidUTF8IsRefusedWithItsPosition() throws {
        let bytes: [UInt8] = Array("{\"a\": \"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        do {
            _ = try JSONValue.parse(bytes)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.kind == .syntax)
            #expect(error.message.contains("invalid UTF-8 (byte 0x28)"), "\(error)")
            #expect(error.line == 1 && error.column == 9, "\(error)")
        }
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000)
        let error = try #require(Self.jsonError(deep))
        #expect(error.kind == .tooDeep)
        #expect(error.column == JSONParser.maxDepth + 1)
    }

    // MARK: What is accepted

    @Test func everyKindOfValueParses() throws {
        let text = "\u{FEFF} {\"s\": \"a\\\"b\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00é\", \"n\": [-0.5e+2, 0, 12, 1E2], \"t\": true, \"f\": false, \"z\": null, \"o\": {}, \"e\": []}\n"
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value == .object([
            "s": .string("a\"b\\/\u{08}\u{0C}\n\r\té😀é"),
            "n": .array([.number(-50), .number(0), .number(12), .number(100)]),
            "t": .bool(true), "f": .bool(false), "z": .null, "o": .object([:]), "e": .array([]),
        ]))
    }

    @Test func theShippedFileStillParses() throws {
        let text = """
            {
              "anomaly_threshold": 0.7,
              "window_size": 50,
              "sample_rate": 10,
              "watch_threshold": null,
              "disabled_detectors": []
            }
            """
        #expect(try ModelConfig.parse(json: text).windowSize == 50)
    }
}
