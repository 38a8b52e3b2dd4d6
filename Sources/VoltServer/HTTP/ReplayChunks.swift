import NIOCore

/// Where a replay reads its trace from, chunk by chunk: the raw request body
/// (``UploadBody``) or the file part of a form upload (``MultipartUpload``).
protocol ReplayChunks: Sendable {
    /// The next chunk, nil at the end of the trace.
    func next() async throws -> ByteBuffer?
}

extension UploadBody: ReplayChunks {}
