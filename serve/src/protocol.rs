//! The protocols the server answers, named as in metrics and audit lines.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// nginx `auth_request`.
    Nginx,
    /// Caddy `forward_auth`, Traefik `ForwardAuth`.
    Forward,
    /// Envoy ext_authz, HTTP service.
    EnvoyHttp,
    /// Envoy ext_authz, gRPC `Authorization/Check`.
    EnvoyGrpc,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [
        Protocol::Nginx,
        Protocol::Forward,
        Protocol::EnvoyHttp,
        Protocol::EnvoyGrpc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Nginx => "nginx",
            Protocol::Forward => "forward",
            Protocol::EnvoyHttp => "envoy_http",
            Protocol::EnvoyGrpc => "envoy_grpc",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Protocol::Nginx => 0,
            Protocol::Forward => 1,
            Protocol::EnvoyHttp => 2,
            Protocol::EnvoyGrpc => 3,
        }
    }
}
