import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import VoltCore
@testable import VoltServer

/// `POST /api/replay` with a browser form (`curl -F file=@day.csv`) and a `threshold`.
@Suite struct MultipartReplayTests {
    static let boundary = "------------------------d74496d66958873e"

    static func form(fields: [(String, String)] = [], file: String, boundary: String = boundary) -> String {
        var body = ""
        for (name, value) in fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"day.csv\"\r\n"
        body += "Content-Type: text/csv\r\n\r\n\(file)\r\n--\(boundary)--\r\n"
        return body
    }

    static let csv: String = {
        var text = "timestamp_ms,voltage,label\n"
        for i in 0..<200 {
            let spike = i == 150
            text += "\(1_732_170_000_000 + i * 100),\(spike ? 4.8 : 2.5 + Double(i % 3) * 0.001),\(spike ? 1 : 0)\n"
        }
        return text
    }()

    /// What the scanner gives for `body` fed `size` bytes at a time, data joined per part.
    static func scan(_ body: [UInt8], chunk size: Int, boundary: String = boundary) throws -> [MultipartScanner.Event] {
        var scanner = MultipartScanner(boundary: boundary)
        var events: [MultipartScanner.Event] = []
        var i = 0
        while i < body.count {
            for event in try scanner.feed(body[i..<min(i + size, body.count)]) {
                if case .data(let more) = event, case .data(let sofar)? = events.last {
                    events[events.count - 1] = .data(sofar + more)
                } else {
                    events.append(event)
                }
            }
            i += size
        }
        try scanner.finish()
        return events
    }

    @Test(arguments: [1, 2, 3, 7, 41, 64, 1_000, 100_000])
    func scannerGivesTheSamePartsWhateverTheChunkSize(size: Int) throws {
        let body = Array(Self.form(fields: [("summary", "1")], file: "a\r\n--not-the-boundary\r\nb").utf8)
        #expect(try Self.scan(body, chunk: size) == [
            .part(name: "summary", filename: nil), .data(Array("1".utf8)), .partEnd,
            .part(name: "file", filename: "day.csv"), .data(Array("a\r\n--not-the-boundary\r\nb".utf8)), .partEnd, .end,
        ])
    }

    @Test func scannerRefusesABodyCutBeforeItsClosingBoundary() {
        var scanner = MultipartScanner(boundary: "xyz")
        #expect(throws: MultipartScanner.ScanError.self) {
            _ = try scanner.feed(Array("--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc".utf8))
            try scanner.finish()
        }
    }

    @Test func boundaryIsReadFromTheContentType() {
        #expect(MultipartScanner.boundary(contentType: "multipart/form-data; boundary=abc") == .some("abc"))
        #expect(MultipartScanner.boundary(contentType: "Multipart/Form-Data;boundary=\"a b\"") == .some("a b"))
        #expect(MultipartScanner.boundary(contentType: "multipart/form-data") == .some(nil))
        #expect(MultipartScanner.boundary(contentType: "text/csv") == nil)
    }

    @Test func formUploadIsScoredLikeARawBody() async throws {
        let server = ServerTests.makeServer()
        let headers: HTTPFields = [.contentType: "multipart/form-data; boundary=\(Self.boundary)"]
        try await server.makeApplication().test(.live) { client in
            let raw = try await client.execute(uri: "/api/replay", method: .post, body: ByteBuffer(string: Self.csv)) {
                String(buffer: $0.body)
            }
            try await client.execute(uri: "/api/replay", method: .post, headers: headers,
                                     body: ByteBuffer(string: Self.form(file: Self.csv))) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == raw)
            }
            // Options may come as form fields before the file.
            try await client.execute(uri: "/api/replay", method: .post, headers: headers,
                                     body: ByteBuffer(string: Self.form(fields: [("summary", "1"), ("device", "bench")], file: Self.csv))) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("\"samples\":200"))
                #expect(body.contains("\"labels\":{\"precision\":"))
            }
            try await client.execute(uri: "/api/replay", method: .post, headers: headers,
                                     body: ByteBuffer(string: "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--\(Self.boundary)--\r\n")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("-F file=@"))
            }
        }
    }

    @Test func thresholdChangesTheVerdictsAndTheSummarySaysWhichWasUsed() async throws {
        let server = ServerTests.makeServer()
        try await server.makeApplication().test(.live) { client in
            func summary(_ query: String) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(uri: "/api/replay?summary=1" + query, method: .post, body: ByteBuffer(string: Self.csv)) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            let (_, normal) = try await summary("")
            #expect(normal.contains("\"threshold\":0.7"))
            #expect(normal.contains("\"anomalies\":1,"))
            #expect(normal.contains("\"false_positives\":0"))
            // A threshold near 0 calls the ordinary wobble anomalous too: precision drops.
            let (_, lax) = try await summary("&threshold=0.0001")
            #expect(lax.contains("\"threshold\":0.0001"))
            #expect(!lax.contains("\"anomalies\":1,"))
            #expect(!lax.contains("\"false_positives\":0"))
            for bad in ["0", "1.5", "x"] {
                let (status, body) = try await summary("&threshold=" + bad)
                #expect(status == .badRequest)
                #expect(body.contains("threshold"))
            }
        }
    }
}
