import Hummingbird
import VoltCore

/// JSON bodies built as text: the results are already encoded by hand (``ResultEncoder``), so
/// the API answers are too, with no second encoding pass.
enum JSONResponse {
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
