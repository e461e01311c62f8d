//! One request as the gate reads it: the request, and its path parsed once
//! (for routing, then for the `return_to` of a sign-in redirect).

use crate::answer;
use crate::policy::path::{parse_path, RequestPath};
use crate::request::Request;

/// How the request's path was read.
enum Read<'q, 'r> {
    Parsed(Result<RequestPath<'r>, String>),
    /// A pending step completing: it was routed when prepared, and keeps
    /// its `return_to`.
    Known(&'q str),
}

/// A request and what the gate read from it once.
pub(super) struct Cx<'q, 'r> {
    pub(super) req: &'q Request<'r>,
    read: Read<'q, 'r>,
}

impl<'q, 'r> Cx<'q, 'r> {
    pub(super) fn new(req: &'q Request<'r>) -> Self {
        Cx {
            req,
            read: Read::Parsed(parse_path(req.path)),
        }
    }

    /// A pending step's request, routed already.
    pub(super) fn known(req: &'q Request<'r>, return_to: &'q str) -> Self {
        Cx {
            req,
            read: Read::Known(return_to),
        }
    }

    /// The parsed path, or why it cannot be read safely.
    pub(super) fn path(&self) -> Result<&RequestPath<'r>, &str> {
        match &self.read {
            Read::Parsed(Ok(p)) => Ok(p),
            Read::Parsed(Err(why)) => Err(why),
            Read::Known(_) => Err("a pending step's request is not routed again"),
        }
    }

    /// Where a sign-in should send the user back (see [`answer::return_to`]).
    pub(super) fn return_to(&self) -> String {
        match &self.read {
            Read::Parsed(Ok(p)) => answer::return_to(p),
            Read::Parsed(Err(_)) => "/".to_owned(),
            Read::Known(r) => (*r).to_owned(),
        }
    }
}
