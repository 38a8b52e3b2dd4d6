import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import VoltServer

/// Cross-origin use of the REST API by web pages, through real HTTP requests.
@Suite struct CORSTests {
    @Test func defaultIsAnyOriginWithoutATokenAndNoneWithOne() {
        #expect(CORSPolicy(corsOrigins: nil, token: nil, allowedOrigins: []).allowOrigin(for: "https://x.example") == "*")
        #expect(CORSPolicy(corsOrigins: nil, token: "t", allowedOrigins: []).allowOrigin(for: "https://x.example") == nil)
        let named = CORSPolicy(corsOrigins: nil, token: "t", allowedOrigins: ["https://Dash.example/"])
        #expect(named.allowOrigin(for: "https://dash.example") == "https://dash.example")
        #expect(named.allowOrigin(for: "https://evil.example") == nil)
        #expect(CORSPolicy(corsOrigins: ["*"], token: "t", allowedOrigins: []).allowOrigin(for: "https://x.example") == "*")
        #expect(CORSPolicy(corsOrigins: ["https://a.example"], token: nil, allowedOrigins: []).allowOrigin(for: "null") == nil)
    }

    @Test func preflightFromAnAllowedOriginIsAnsweredWithoutTheToken() async throws {
        let server = ServerTests.makeServer(token: "s3cret") { $0.corsOrigins = ["https://dash.example"] }
        try await server.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/status", method: .options, headers: [
                .origin: "https://dash.example", .accessControlRequestMethod: "GET",
                .accessControlRequestHeaders: "authorization",
            ]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "https://dash.example")
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
                #expect(response.headers[.accessControlAllowCredentials] == nil)
            }
            try await client.execute(uri: "/api/status", method: .options, headers: [
                .origin: "https://evil.example", .accessControlRequestMethod: "GET",
            ]) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.accessControlAllowOrigin] == nil)
                #expect(String(buffer: response.body).contains("--cors-origin"))
            }
        }
    }

    @Test func answersAndErrorsCarryTheHeaderForAllowedOriginsOnly() async throws {
        let server = ServerTests.makeServer(token: "s3cret") { $0.corsOrigins = ["https://dash.example"] }
        try await server.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/status", method: .get, headers: [
                .origin: "https://dash.example", .authorization: "Bearer s3cret",
            ]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.accessControlAllowOrigin] == "https://dash.example")
                #expect(response.headers[.vary] == "Origin")
            }
            // A page must be able to read why it was refused.
            try await client.execute(uri: "/api/status", method: .get, headers: [.origin: "https://dash.example"]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.accessControlAllowOrigin] == "https://dash.example")
            }
            try await client.execute(uri: "/api/status", method: .get, headers: [
                .origin: "https://evil.example", .authorization: "Bearer s3cret",
            ]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
    }

    @Test func withoutATokenAnyPageMayRead() async throws {
        let server = ServerTests.makeServer()
        try await server.makeApplication().test(.live) { client in
            try await client.execute(uri: "/api/anomalies", method: .get, headers: [.origin: "https://any.example"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.accessControlAllowOrigin] == "*")
            }
            try await client.execute(uri: "/api/nothing-here", method: .get, headers: [.origin: "https://any.example"]) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.accessControlAllowOrigin] == "*")
            }
            try await client.execute(uri: "/api/replay", method: .options, headers: [
                .origin: "https://any.example", .accessControlRequestMethod: "POST",
            ]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "*")
            }
        }
    }
}
