//! Answers that are not decisions: the proxy sent a request the server
//! cannot decide on. They fail closed (never 2xx) and say what to fix.

use crate::metrics::Rejected;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub why: Rejected,
    pub status: u16,
    pub message: String,
}

impl Rejection {
    /// A header the protocol needs is missing: the proxy is not configured
    /// as docs/serve.md shows (500: nothing the client can fix).
    pub fn missing(header: &str, fix: &str) -> Rejection {
        Rejection {
            why: Rejected::HeaderMissing,
            status: 500,
            message: format!("the proxy sent no {header} header: {fix}"),
        }
    }

    /// A forwarded header came several times: the proxy appended to a
    /// client's header instead of overwriting it.
    pub fn repeated(header: &str) -> Rejection {
        Rejection {
            why: Rejected::HeaderInvalid,
            status: 500,
            message: format!(
                "the proxy sent {header} more than once: it must overwrite the client's header, not append to it (docs/serve.md)"
            ),
        }
    }

    pub fn unreadable(what: &str) -> Rejection {
        Rejection {
            why: Rejected::HeaderInvalid,
            status: 400,
            message: format!("{what} is not valid UTF-8 text"),
        }
    }

    pub fn path(what: &str) -> Rejection {
        Rejection {
            why: Rejected::PathInvalid,
            status: 400,
            message: format!("{what} is not under the prefix"),
        }
    }

    pub fn body_too_large(limit: u64) -> Rejection {
        Rejection {
            why: Rejected::BodyTooLarge,
            status: 413,
            message: format!(
                "the request declares a body larger than {limit} bytes; auth requests need none (Envoy: switch with_request_body off or raise limits.max_body_bytes)"
            ),
        }
    }

    pub fn host_missing(header: &str) -> Rejection {
        Rejection {
            why: Rejected::HeaderMissing,
            status: 500,
            message: format!(
                "the policy routes on hosts, and the proxy sent no {header} header: without it the request could be decided by another route"
            ),
        }
    }

    pub fn answer_missing() -> Rejection {
        Rejection {
            why: Rejected::AnswerMissing,
            status: 500,
            message: "nginx asked for a refusal without X-Mfagate-Answer: set it from $upstream_http_x_mfagate_answer with auth_request_set, and use the refusal location only as the gated location's error_page (docs/serve.md)".into(),
        }
    }

    /// The JSON body: `{"error": code, "message": text}`.
    pub fn body(&self) -> String {
        serde_json::json!({"error": self.why.as_str(), "message": self.message}).to_string()
    }
}
