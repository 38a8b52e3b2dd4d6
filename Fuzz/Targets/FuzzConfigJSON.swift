// libFuzzer target: the JSON parser and the model_config.json validation on top of it.
// Built by scripts/fuzz.sh, not by the package (see docs/fuzzing.md).
import VoltCore

/// The input is a `model_config.json` (or a `/ws` client message, which the same parser
/// reads). Checks, besides "no crash": errors carry a position inside the document, and a
/// configuration that is accepted prints as JSON that parses back to the same configuration.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        _ = try JSONValue.parse(bytes)
    } catch {
        check(error.line >= 1 && error.column >= 1, "error without a position: \(error)")
        check(error.line <= bytes.count + 1 && error.column <= bytes.count + 1, "position past the document: \(error)")
        _ = error.description
    }
    do {
        let config = try ModelConfig.parse(json: bytes)
        let printed = config.jsonText()
        do {
            let again = try ModelConfig.parse(json: printed)
            check(again == config, "printed configuration parses to another one:\n\(printed)")
        } catch {
            fatalError("printed configuration is refused: \(error)\n\(printed)")
        }
    } catch {
        check(!error.issues.isEmpty, "refused without a reason")
        _ = error.description
    }
    return 0
}

/// `precondition` that prints its message in optimised builds too (libFuzzer keeps the input;
/// the message says which promise it broke).
@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
