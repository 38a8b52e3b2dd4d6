import Hummingbird
import NIOCore

/// The file part of a `multipart/form-data` upload (`curl -F file=@day.csv`, a browser form),
/// streamed out of the request body as it arrives through ``MultipartScanner``.
///
/// ``start()`` reads up to the file part (the part named `file`, or the first with a
/// filename) and returns the small form fields sent before it (`summary`, `device`,
/// `threshold`), so a form can carry the options a query string would. Fields after the file
/// are not read: the results have left by then. Like ``UploadBody``, it is read by one replay
/// at a time, first in the route and then in the streamed answer.
final class MultipartUpload: ReplayChunks, @unchecked Sendable {
    private let body: UploadBody
    private var scanner: MultipartScanner
    private var queued: [MultipartScanner.Event] = []
    private var inFile = false
    private var fileDone = false

    /// Largest form field value kept, bytes; most fields kept.
    static let maxFieldBytes = 1024
    static let maxFields = 16

    init(_ body: UploadBody, boundary: String) {
        self.body = body
        self.scanner = MultipartScanner(boundary: boundary)
    }

    /// Reads the form up to the file part; returns the fields that came before it.
    func start() async throws -> [String: String] {
        var fields: [String: String] = [:]
        var field: (name: String, value: [UInt8])?
        while let event = try await nextEvent() {
            switch event {
            case .part(let name, let filename):
                if name == "file" || filename != nil {
                    inFile = true
                    return fields
                }
                field = name.map { ($0, []) }
            case .data(let bytes):
                if field != nil, field!.value.count < Self.maxFieldBytes {
                    field!.value.append(contentsOf: bytes.prefix(Self.maxFieldBytes - field!.value.count))
                }
            case .partEnd:
                if let field, fields.count < Self.maxFields {
                    fields[field.name] = String(decoding: field.value, as: UTF8.self)
                }
                field = nil
            case .end:
                break
            }
        }
        throw HTTPError(.badRequest, message:
            "the form has no file part: send the trace as a file field, e.g. curl -F file=@day.csv")
    }

    func next() async throws -> ByteBuffer? {
        guard inFile, !fileDone else { return nil }
        while let event = try await nextEvent() {
            switch event {
            case .data(let bytes):
                return ByteBuffer(bytes: bytes)
            case .partEnd, .end:
                fileDone = true
                // The rest of the form is read and dropped, so the connection stays usable.
                while try await body.next() != nil {}
                return nil
            case .part:
                continue
            }
        }
        fileDone = true
        return nil
    }

    private func nextEvent() async throws -> MultipartScanner.Event? {
        while queued.isEmpty {
            guard let chunk = try await body.next() else {
                do { try scanner.finish() } catch { throw HTTPError(.badRequest, message: error.message) }
                return nil
            }
            do {
                queued = try chunk.withUnsafeReadableBytes { try scanner.feed($0) }
            } catch let error as MultipartScanner.ScanError {
                throw HTTPError(.badRequest, message: error.message)
            }
        }
        return queued.removeFirst()
    }
}
