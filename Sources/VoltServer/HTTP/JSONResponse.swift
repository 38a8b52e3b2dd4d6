import FoundationEssentials
import Hummingbird
import VoltCore

/// JSON bodies: reports are `Encodable` values (``StatusReport``); results, already encoded
/// once by hand for the live stream (``ResultEncoder``), are passed on as text.
enum JSONResponse {
    static func ok(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ok(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func ok(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    /// `{"error": message}`: the only shape an error takes, never a stack trace.
    static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        ok("{\"error\":" + JSONText.string(message) + "}", status: status)
    }
}
