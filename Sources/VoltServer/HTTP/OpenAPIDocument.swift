/// The OpenAPI 3.0 description of the REST API, served at `/api/openapi.json`.
///
/// It lives in the repository as `HTTP/openapi.json`, embedded at build time like the
/// dashboard, so the file a person reads is the one the agent serves. The end-to-end suite
/// runs schemathesis against the running agent with it (tests/server/test_openapi.py): a
/// route that answers something the document does not allow fails the tests.
enum OpenAPIDocument {
    static let text = String(decoding: PackageResources.openapi_json, as: UTF8.self)
}
