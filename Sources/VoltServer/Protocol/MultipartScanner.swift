/// A streaming `multipart/form-data` reader (RFC 7578): feed the body's chunks as they come,
/// get each part's headers and its content in pieces, never the whole body.
///
/// Hand-written because the packages we may use have no streaming multipart parser
/// (hummingbird's `MultipartKit` companion decodes a whole body into memory, which the replay
/// upload must never do with a day of logs). The work is small: find `CRLF--boundary` across
/// chunk edges, keeping at most one delimiter's length of bytes back, and read each part's
/// few header lines. Pure, so it is tested with every chunk size.
struct MultipartScanner {
    enum Event: Equatable {
        /// A part begins: its `Content-Disposition` name and filename, if any.
        case part(name: String?, filename: String?)
        /// A piece of the current part's content.
        case data([UInt8])
        /// The current part ended.
        case partEnd
        /// The closing delimiter: nothing after it matters.
        case end
    }

    struct ScanError: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private enum State { case preamble, afterDelimiter, headers, content, done }

    /// `CRLF--boundary`; the body's first delimiter has no CRLF before it, so one is assumed.
    private let delimiter: [UInt8]
    private var pending: [UInt8] = [0x0D, 0x0A]
    private var state = State.preamble
    /// The largest header block of one part, bytes.
    static let maxHeaderBytes = 8 * 1024

    init(boundary: String) {
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// The boundary from a `Content-Type: multipart/form-data; boundary=...` value; nil when
    /// the type is not multipart/form-data.
    static func boundary(contentType: String) -> String?? {
        let parts = contentType.split(separator: ";").map { String($0).trimmingCharacters(in: " \t") }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard (1...70).contains(value.utf8.count) else { return .some(nil) }
            return .some(value)
        }
        return .some(nil)
    }

    var isDone: Bool { state == .done }

    mutating func feed(_ bytes: some Collection<UInt8>) throws(ScanError) -> [Event] {
        guard state != .done else { return [] }
        pending.append(contentsOf: bytes)
        var events: [Event] = []
        var start = 0
        scanning: while true {
            switch state {
            case .preamble:
                guard let at = find(delimiter, from: start) else {
                    // Keep only what could still begin a delimiter.
                    start = max(start, pending.count - (delimiter.count - 1))
                    break scanning
                }
                start = at + delimiter.count
                state = .afterDelimiter
            case .afterDelimiter:
                guard pending.count - start >= 2 else { break scanning }
                if pending[start] == 0x2D && pending[start + 1] == 0x2D {
                    state = .done
                    events.append(.end)
                    pending = []
                    return events
                }
                // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
                guard let lineEnd = find([0x0D, 0x0A], from: start) else {
                    guard pending.count - start < 256 else { throw ScanError(message: "multipart: a delimiter is not followed by a line end") }
                    break scanning
                }
                start = lineEnd + 2
                state = .headers
            case .headers:
                // No headers at all: the part's content starts right after one more CRLF.
                let blockEnd = pending[start...].starts(with: [0x0D, 0x0A]) ? start - 2 : find([0x0D, 0x0A, 0x0D, 0x0A], from: start)
                guard let blockEnd else {
                    guard pending.count - start <= Self.maxHeaderBytes else {
                        throw ScanError(message: "multipart: a part's headers are over \(Self.maxHeaderBytes) bytes")
                    }
                    break scanning
                }
                let block = blockEnd >= start ? String(decoding: pending[start..<blockEnd], as: UTF8.self) : ""
                events.append(Self.disposition(block))
                start = blockEnd + 4
                state = .content
            case .content:
                if let at = find(delimiter, from: start) {
                    if at > start { events.append(.data(Array(pending[start..<at]))) }
                    events.append(.partEnd)
                    start = at + delimiter.count
                    state = .afterDelimiter
                } else {
                    let safe = pending.count - (delimiter.count - 1)
                    if safe > start {
                        events.append(.data(Array(pending[start..<safe])))
                        start = safe
                    }
                    break scanning
                }
            case .done:
                break scanning
            }
        }
        pending.removeFirst(start)
        return events
    }

    /// The end of the body: a multipart body that stops before its closing delimiter is cut.
    func finish() throws(ScanError) {
        guard state == .done else {
            throw ScanError(message: "multipart: the body ended before its closing boundary")
        }
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard pending.count - start >= needle.count else { return nil }
        let first = needle[0]
        var i = start
        let last = pending.count - needle.count
        while i <= last {
            if pending[i] == first {
                var j = 1
                while j < needle.count && pending[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// `Content-Disposition: form-data; name="file"; filename="day.csv"` → name and filename.
    static func disposition(_ block: String) -> Event {
        var name: String?
        var filename: String?
        for line in block.split(separator: "\r\n") {
            let header = line.split(separator: ":", maxSplits: 1)
            guard header.count == 2, header[0].lowercased().trimmingCharacters(in: " \t") == "content-disposition" else { continue }
            for parameter in header[1].split(separator: ";").dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: " \t") }
                guard pair.count == 2 else { continue }
                var value = pair[1]
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                switch pair[0].lowercased() {
                case "name": name = value
                case "filename": filename = value
                default: break
                }
            }
        }
        return .part(name: name, filename: filename)
    }
}
