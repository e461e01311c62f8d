//! # mfagate
//!
//! One decision engine for the Partner Center MFA mandate. A [`Gate`] is a
//! [`Policy`] (built-in or your own) and a [`KeySet`]; it turns a request into
//! a [`Decision`]: allow, deny or step-up, with a stable [`Reason`] code and
//! the exact HTTP answer.
//!
//! ```
//! use mfagate::{Gate, KeySet, Policy, Request, Outcome, Reason};
//!
//! let policy = Policy::builtin("partner-center").unwrap();
//! let gate = Gate::new(policy, KeySet::empty());
//! // No credential on the Partner Center API: 401 with a bare Bearer challenge.
//! let d = gate.evaluate(&Request::new("/v1/customers", 1_700_000_000));
//! assert_eq!(d.outcome, Outcome::Deny);
//! assert_eq!(d.reason, Reason::NoCredential);
//! assert_eq!(d.http.status, 401);
//! assert_eq!(d.http.headers, vec![("WWW-Authenticate", "Bearer".to_string())]);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// cedar-policy's lints: an index or an "unreachable" that panics would end
// the request, not decide it; each such spot is a checked path that fails closed.
#![deny(
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod answer;
mod cache;
mod catalogue;
pub mod claims;
pub mod cloud;
pub mod conformance;
mod crypto;
pub mod decision;
mod engine;
pub mod error;
mod feed;
mod gate;
mod guid;
pub mod inspect;
pub mod jws;
pub mod keys;
pub mod kind;
mod material;
pub mod messages;
mod mfa;
mod p256_point;
pub mod policy;
pub mod reason;
pub mod refresh;
pub mod request;
pub mod roles;
mod time;
mod validate;

pub use answer::{CLAIMS_AUTHORIZATION_URI, PARTNER_CENTER_STATUS_TEXT};
pub use cache::{CacheOptions, CacheStats, TokenCache, MIN_CACHE_BYTES};
pub use claims::Claims;
pub use cloud::Cloud;
pub use crypto::verifies_in_process;
pub use decision::{Decision, HttpAnswer, MfaReport, Redirect, Subject, JSON_CONTENT_TYPE};
pub use engine::{After, Engine, Snapshot};
pub use error::{Error, ErrorCode};
pub use feed::{KeyFeed, Poll, Spelling};
pub use gate::{Gate, Pending, Step};
pub use guid::is_guid;
pub use jws::Algorithm;
pub use keys::{Key, KeyMaterial, KeySet};
pub use kind::TokenKind;
pub use messages::Message;
pub use policy::doc::{ChallengeStyle, RulesVersion};
pub use policy::{Policy, BUILTIN_NAMES};
pub use reason::{Outcome, Reason, Refusal};
pub use refresh::{Document, Fetch, Next, RefreshOptions, Refresher};
#[cfg(not(target_arch = "wasm32"))]
pub use request::system_now;
pub use request::{
    session_cookie, validate_mfa_header, Field, Request, RequestSpec, NOW_MAX, REQUEST_KEYS,
};
pub use roles::{Role, RoleSet};
pub use time::{format_rfc3339, parse_rfc3339};
