import HTTPTypes
import Hummingbird
import NIOCore

/// The live dashboard at `GET /` (docs/dashboard.md): one self-contained page, its style and
/// script inline, so a gateway with no internet serves everything a browser needs itself.
///
/// The page lives in real files, `Assets/index.html`, `dashboard.css` and `dashboard.js`,
/// embedded in the binary at build time (SwiftPM's `embedInCode`), so nothing needs installing
/// beside it. It is assembled once: the template's `{{style}}` and `{{script}}` take the two
/// files. Its Content-Security-Policy allows exactly that style and script (by SHA-256),
/// connections to this origin only, and nothing else: no outside request can be made even by
/// mistake. Whether the agent steers a simulation (`--fake`) is the one thing that differs
/// between servers; it is written into the page as `<body data-simulation>`, outside the
/// hashed parts.
enum Dashboard {
    static let template = String(decoding: PackageResources.index_html, as: UTF8.self)
    static let style = String(decoding: PackageResources.dashboard_css, as: UTF8.self)
    static let script = String(decoding: PackageResources.dashboard_js, as: UTF8.self)

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
        let html = compact(template)
            .replacingOccurrences("{{simulation}}", with: "\(simulation)")
            .replacingOccurrences("{{style}}", with: style)
            .replacingOccurrences("{{script}}", with: servedScript)
        let digest = SHA256.base64Digest(html)
        return Page(body: ByteBuffer(string: html), etag: "\"" + digest.prefix(22) + "\"")
    }

    /// The script as served: without indentation and whole-line comments, which are a tenth
    /// of its size and nothing to the browser (the script has no multi-line strings). The
    /// markup is served compacted. Nothing cleverer: a hand-made minifier would have to
    /// understand regular expressions and template literals to be safe.
    /// The CSP hash is taken of exactly this text, so editing the script needs nothing else.
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

extension String {
    /// This text with every `target` replaced by `replacement`. (FoundationEssentials has no
    /// `replacingOccurrences(of:with:)`.)
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
