//! Envoy's ext_authz gRPC service (`envoy.service.auth.v3.Authorization/
//! Check`): the original request from `attributes.request.http`, the
//! decision as `OkHttpResponse` (subject headers set on the upstream
//! request, the decision's own headers on the client's answer) or
//! `DeniedHttpResponse` (the exact refusal).

use crate::answer::{subject_values, Answer, SUBJECT_HEADERS};
use crate::decide::{decide, reject};
use crate::extract::Asked;
use crate::protocol::Protocol;
use crate::rejection::Rejection;
use crate::state::Shared;
use envoy_types::ext_authz::v3::pb::{
    Authorization, CheckRequest, CheckResponse, DeniedHttpResponse, HeaderValue, HeaderValueOption,
    HttpResponse, HttpStatus, OkHttpResponse,
};
use envoy_types::pb::google::rpc;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

/// google.rpc.Code values (code.proto).
const OK: i32 = 0;
const PERMISSION_DENIED: i32 = 7;
const UNAUTHENTICATED: i32 = 16;

pub struct Check {
    pub shared: Arc<Shared>,
}

fn header(key: &str, value: &str) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key: key.to_owned(),
            value: value.to_owned(),
            ..Default::default()
        }),
        // OVERWRITE_IF_EXISTS_OR_ADD (0): a client's own header of the same
        // name is replaced.
        ..Default::default()
    }
}

fn denied(a: &Answer<'_>, message: String) -> CheckResponse {
    CheckResponse {
        status: Some(rpc::Status {
            code: if a.status == 401 {
                UNAUTHENTICATED
            } else {
                PERMISSION_DENIED
            },
            message,
            details: Vec::new(),
        }),
        http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
            // envoy.type.v3.StatusCode's values are the HTTP codes.
            status: Some(HttpStatus {
                code: i32::from(a.status),
            }),
            headers: a.headers.iter().map(|(k, v)| header(k, v)).collect(),
            body: a.body.clone().into_owned(),
        })),
        dynamic_metadata: None,
    }
}

/// Envoy gives the headers as a map with lower-case keys (repeated ones
/// merged), or, with `encode_raw_headers`, as a list.
fn headers_of(
    http: &envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest,
) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    let mut add = |k: &str, v: &[u8]| {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_bytes(v),
        ) {
            out.append(n, v);
        }
    };
    if http.headers.is_empty() {
        if let Some(map) = &http.header_map {
            for h in &map.headers {
                let v = if h.raw_value.is_empty() {
                    h.value.as_bytes()
                } else {
                    &h.raw_value
                };
                add(&h.key, v);
            }
        }
    } else {
        for (k, v) in &http.headers {
            add(k, v.as_bytes());
        }
    }
    out
}

impl Check {
    async fn answer(&self, req: CheckRequest) -> CheckResponse {
        let started = Instant::now();
        let Some(http) = req
            .attributes
            .as_ref()
            .and_then(|a| a.request.as_ref())
            .and_then(|r| r.http.as_ref())
        else {
            let r = Rejection::missing(
                "attributes.request.http",
                "Envoy always sends it; another client must too",
            );
            reject(&self.shared, Protocol::EnvoyGrpc, &r);
            return denied(&Answer::of_rejection(&r), r.message);
        };
        let headers = headers_of(http);
        let cookie = self.shared.checked.settings.session_cookie.as_deref();
        let (authorization, token, validate_mfa) = crate::extract::credentials(&headers, cookie);
        let asked = Asked {
            // As sent: Envoy always sets it, and an empty one is refused by
            // the core (400), never read as GET.
            method: Cow::Borrowed(&http.method),
            path: Cow::Borrowed(&http.path),
            host: (!http.host.is_empty()).then_some(Cow::Borrowed(http.host.as_str())),
            authorization,
            token,
            validate_mfa,
        };
        match decide(&self.shared, Protocol::EnvoyGrpc, &asked, started).await {
            Err(r) => denied(&Answer::of_rejection(&r), r.message),
            Ok(d) if d.is_allowed() => {
                let mut headers = Vec::with_capacity(SUBJECT_HEADERS.len());
                // A client's own isMfaCompliant is the gate's word on the
                // client's answer only; the application never gets one.
                let mut remove = vec!["ismfacompliant".to_owned()];
                for (name, value) in SUBJECT_HEADERS.iter().zip(subject_values(&d)) {
                    // Envoy drops an empty value rather than overwriting:
                    // remove the header so a client's own cannot pass.
                    if value.is_empty() {
                        remove.push(name.to_ascii_lowercase());
                    } else {
                        headers.push(header(name, &value));
                    }
                }
                CheckResponse {
                    status: Some(rpc::Status {
                        code: OK,
                        message: String::new(),
                        details: Vec::new(),
                    }),
                    http_response: Some(HttpResponse::OkResponse(OkHttpResponse {
                        headers,
                        headers_to_remove: remove,
                        response_headers_to_add: d
                            .http
                            .headers
                            .iter()
                            .map(|(k, v)| header(k, v))
                            .collect(),
                        ..Default::default()
                    })),
                    dynamic_metadata: None,
                }
            }
            Ok(d) => denied(&Answer::of_decision(&d), d.reason.as_str().to_owned()),
        }
    }
}

#[tonic::async_trait]
impl Authorization for Check {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(
            self.answer(request.into_inner()).await,
        ))
    }
}
