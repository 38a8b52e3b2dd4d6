import HTTPTypes
import Hummingbird
import NIOCore

/// The live dashboard at `GET /` (docs/dashboard.md): one self-contained page, its style and
/// script inline, so a gateway with no internet serves everything a browser needs itself.
///
/// The page is assembled once from ``markup``, ``style`` and ``script``. Its
/// Content-Security-Policy allows exactly that style and script (by SHA-256), connections to
/// this origin only, and nothing else: no outside request can be made even by mistake.
/// Whether the agent steers a simulation (`--fake`) is the one thing that differs between
/// servers; it is written into the page as `<body data-simulation>`, outside the hashed parts.
enum Dashboard {
    struct Page: Sendable {
        let body: ByteBuffer
        let etag: String
    }

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'sha256-\(SHA256.base64Digest(servedScript))'; "
        + "style-src 'sha256-\(SHA256.base64Digest(style))'; connect-src 'self'; img-src data:; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'"

    static let withSimulation = page(simulation: true)
    static let withoutSimulation = page(simulation: false)

    private static func page(simulation: Bool) -> Page {
        let html = markupHead + "<style>" + style + "</style>\n</head>\n<body data-simulation=\"\(simulation)\">\n"
            + compact(markupBody) + "<script>" + servedScript + "</script>\n</body>\n</html>\n"
        let digest = SHA256.base64Digest(html)
        return Page(body: ByteBuffer(string: html), etag: "\"" + digest.prefix(22) + "\"")
    }

    /// The script as served: without indentation and whole-line comments, which are a tenth
    /// of its size and nothing to the browser (the script has no multi-line strings).
    static let servedScript = compact(script)

    static func compact(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.isEmpty || trimmed.hasPrefix("//") { continue }
            out += trimmed
            out += "\n"
        }
        return out
    }

    /// The page, or 304 when the browser's copy (`If-None-Match`) is still current.
    ///
    /// `no-cache` makes the browser revalidate on every load (a few hundred bytes) so an
    /// upgraded agent never runs an old page; `private` keeps the token-protected page out of
    /// shared caches.
    static func response(to request: Request, simulation: Bool) -> Response {
        let page = simulation ? withSimulation : withoutSimulation
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "private, no-cache"
        headers[.eTag] = page.etag
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        if let referrer = HTTPField.Name("Referrer-Policy") { headers[referrer] = "no-referrer" }
        if let frames = HTTPField.Name("X-Frame-Options") { headers[frames] = "DENY" }
        if let tags = request.headers[.ifNoneMatch],
           tags.split(separator: ",").contains(where: { $0.trimmingPrefix(" ").trimmingPrefix("W/") == page.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: page.body))
    }
}
