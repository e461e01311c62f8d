//! Which endpoint answers a request, by its exact path (never a
//! normalised one: the configuration check keeps every fixed endpoint out
//! of Envoy's prefix), and the HTTP endpoints themselves.

use crate::answer::Answer;
use crate::config::{under, GRPC_CHECK, HEALTHZ, METRICS, READYZ};
use crate::decide::{decide, reject};
use crate::extract::{self, Asked};
use crate::grpc::Check;
use crate::protocol::Protocol;
use crate::rejection::Rejection;
use crate::respond::{self, Body};
use crate::state::Shared;
use envoy_types::ext_authz::v3::pb::AuthorizationServer;
use http::{Request, Response};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use std::time::Instant;

pub struct Router {
    pub shared: Arc<Shared>,
    pub grpc: AuthorizationServer<Check>,
}

/// The body size the request declares (Content-Length; a chunked body
/// declares nothing). No body is ever read.
fn declared_body(req: &Request<Incoming>) -> u64 {
    req.body().size_hint().lower()
}

fn is_grpc(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

impl Router {
    pub async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let started = Instant::now();
        let e = &self.shared.checked.settings.endpoints;
        let path = req.uri().path();
        if e.grpc && path == GRPC_CHECK && is_grpc(&req) {
            let mut svc = self.grpc.clone();
            return match tower_service::Service::call(&mut svc, req).await {
                Ok(r) => r.map(|b| {
                    b.map_err(|s| -> respond::BoxError { Box::new(s) })
                        .boxed_unsync()
                }),
                Err(never) => match never {},
            };
        }
        let protocol = if path == e.nginx {
            Protocol::Nginx
        } else if path == e.forward {
            Protocol::Forward
        } else if !e.envoy_prefix.is_empty() && under(path, &e.envoy_prefix) {
            Protocol::EnvoyHttp
        } else {
            return self.own(path, &req);
        };
        let limit = self.shared.checked.settings.limits.max_body_bytes;
        if declared_body(&req) > limit {
            let r = Rejection::body_too_large(limit);
            reject(&self.shared, protocol, &r);
            return self.refuse(protocol, &Answer::of_rejection(&r));
        }
        let (parts, _body) = req.into_parts();
        let cookie = self.shared.checked.settings.session_cookie.as_deref();
        let asked: Result<Asked<'_>, Rejection> = match protocol {
            Protocol::Nginx => extract::nginx(&parts.headers, cookie),
            Protocol::Forward => extract::forward(&parts.headers, cookie),
            _ => extract::envoy(&parts, &e.envoy_prefix, cookie),
        };
        let decided = match asked {
            Ok(a) => decide(&self.shared, protocol, &a, started).await,
            Err(r) => {
                reject(&self.shared, protocol, &r);
                Err(r)
            }
        };
        match decided {
            Ok(d) if d.is_allowed() => respond::allow(&d),
            Ok(d) => self.refuse(protocol, &Answer::of_decision(&d)),
            Err(r) => self.refuse(protocol, &Answer::of_rejection(&r)),
        }
    }

    fn refuse(&self, protocol: Protocol, a: &Answer<'_>) -> Response<Body> {
        if protocol == Protocol::Nginx {
            respond::nginx_refused(a)
        } else {
            respond::exact(a)
        }
    }

    /// The server's own endpoints.
    fn own(&self, path: &str, req: &Request<Incoming>) -> Response<Body> {
        let e = &self.shared.checked.settings.endpoints;
        match path {
            HEALTHZ => respond::plain(200, "ok\n"),
            READYZ if self.shared.ready() => respond::plain(200, "ready\n"),
            READYZ
                if self
                    .shared
                    .draining
                    .load(std::sync::atomic::Ordering::Relaxed) =>
            {
                respond::plain(503, "shutting down\n")
            }
            READYZ => respond::plain(503, "no usable key set yet\n"),
            METRICS => respond::text(
                200,
                "text/plain; version=0.0.4; charset=utf-8",
                self.shared.metrics_text(),
            ),
            p if p == e.nginx_refusal => match respond::nginx_render(req.headers()) {
                Ok(r) => r,
                Err(r) => {
                    reject(&self.shared, Protocol::Nginx, &r);
                    respond::rejection(&r)
                }
            },
            _ => respond::plain(404, "not an mfagate-serve endpoint (see docs/serve.md)\n"),
        }
    }
}
