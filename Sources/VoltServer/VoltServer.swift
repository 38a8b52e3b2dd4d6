// The network edge of voltwatch: HTTP API, WebSocket endpoints, hub, metrics.
