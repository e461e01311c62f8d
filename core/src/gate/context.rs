//! One request as the gate reads it: the request, and its path parsed once
//! (for routing, then for the `return_to` of a sign-in redirect). A
//! two-phase step's second half reads it again only for such a redirect.

use crate::answer;
use crate::policy::path::{parse_path, RequestPath};
use crate::request::Request;

/// How the request's path was read.
enum Read<'r> {
    Parsed(Result<RequestPath<'r>, String>),
    /// A pending step completing: it was routed when prepared; its path is
    /// read again only if a refusal sends the user to sign in (an allow,
    /// the common end, never reads it).
    Routed,
}

/// A request and what the gate read from it once.
pub(super) struct Cx<'q, 'r> {
    pub(super) req: &'q Request<'r>,
    read: Read<'r>,
}

impl<'q, 'r> Cx<'q, 'r> {
    pub(super) fn new(req: &'q Request<'r>) -> Self {
        Cx {
            req,
            read: Read::Parsed(parse_path(req.path)),
        }
    }

    /// A pending step's request, routed already.
    pub(super) fn routed(req: &'q Request<'r>) -> Self {
        Cx {
            req,
            read: Read::Routed,
        }
    }

    /// The parsed path, or why it cannot be read safely.
    pub(super) fn path(&self) -> Result<&RequestPath<'r>, &str> {
        match &self.read {
            Read::Parsed(Ok(p)) => Ok(p),
            Read::Parsed(Err(why)) => Err(why),
            Read::Routed => Err("a pending step's request is not routed again"),
        }
    }

    /// Where a sign-in should send the user back (see [`answer::return_to`]).
    pub(super) fn return_to(&self) -> String {
        match &self.read {
            Read::Parsed(Ok(p)) => answer::return_to(p),
            Read::Parsed(Err(_)) => "/".to_owned(),
            Read::Routed => parse_path(self.req.path)
                .map(|p| answer::return_to(&p))
                .unwrap_or_else(|_| "/".to_owned()),
        }
    }
}
