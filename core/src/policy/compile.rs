//! Compiling a policy document: every check a document must pass, and the
//! lookup structures a decision uses, built once.

use super::doc::{self, PolicyDoc, FORMAT_VERSION};
use super::exceptions::ExceptionTable;
use super::routes::RouteTable;
use super::{Compiled, Rule};
use crate::error::{Error, ErrorCode, Result};
use crate::guid::is_guid;
use crate::kind::TokenKind;
use crate::roles::{Role, RoleMap, RoleSet};
use std::collections::HashMap;
use std::sync::Arc;

fn invalid(msg: String, hint: &str) -> Error {
    Error::new(ErrorCode::PolicyInvalid, msg, hint)
}

fn guids(list: &[String], what: &str) -> Result<Vec<String>> {
    list.iter()
        .map(|t| {
            if is_guid(t) {
                Ok(t.to_ascii_lowercase())
            } else {
                Err(invalid(
                    format!("{what} {t:?} is not a GUID"),
                    "use the object or tenant ID as Entra shows it, like df845f1a-7b35-40a2-ba78-6481de91f8ae",
                ))
            }
        })
        .collect()
}

fn role_table(
    map: &std::collections::BTreeMap<Role, Vec<String>>,
    what: &str,
    guid: bool,
) -> Result<HashMap<String, RoleSet>> {
    let mut out: HashMap<String, RoleSet> = HashMap::new();
    for (role, ids) in map {
        let ids = if guid { guids(ids, what)? } else { ids.clone() };
        for id in ids {
            out.entry(id).or_default().insert(*role);
        }
    }
    Ok(out)
}

fn compile_rule(id: &str, r: &doc::RouteDoc) -> Result<Rule> {
    if r.kinds.is_empty() {
        return Err(invalid(
            format!("route {id:?} accepts no token kind"),
            "list at least one kind in kinds",
        ));
    }
    if r.kinds.contains(&TokenKind::Unrecognized) {
        return Err(invalid(
            format!("route {id:?} accepts \"unrecognized\" tokens"),
            "unrecognized tokens are always refused; remove it from kinds",
        ));
    }
    if r.public && (r.mfa || !r.roles.is_empty()) {
        return Err(invalid(
            format!("route {id:?} is public but also sets mfa or roles"),
            "a public route reads no credential: remove mfa and roles, or remove public = true",
        ));
    }
    Ok(Rule {
        id: Arc::from(id),
        public: r.public,
        mfa: r.mfa,
        kinds: r.kinds.iter().copied().collect(),
        roles: r.roles.iter().copied().collect(),
        challenge: r.challenge,
        max_age: r.max_age,
    })
}

/// The audiences, with the public Partner Center API's (the built-in
/// policies') read as the cloud's own Partner Center API.
fn cloud_audiences(list: &[String], cloud: crate::cloud::Cloud) -> Vec<String> {
    use crate::cloud::PARTNER_CENTER_AUDIENCE;
    list.iter()
        .map(|a| {
            if a.trim_end_matches('/') == PARTNER_CENTER_AUDIENCE {
                cloud.partner_center_audience().to_owned()
            } else {
                a.clone()
            }
        })
        .collect()
}

/// Every problem of a document, each an error a person can act on; a
/// policy loads only when there is none (the loader reports the first,
/// `policy lint` all of them).
pub(super) fn compile(doc: &PolicyDoc) -> Result<Compiled, Vec<Error>> {
    let mut errs: Vec<Error> = Vec::new();
    let mut fail = |e: Error| errs.push(e);
    if doc.format != FORMAT_VERSION {
        fail(invalid(
            format!("format {} is not supported", doc.format),
            "set format = 1",
        ));
    }
    let t = &doc.token;
    if t.audiences.is_empty() || t.audiences.iter().any(String::is_empty) {
        fail(invalid(
            "token.audiences is empty: every token would be refused".into(),
            "list your API's App ID URI and, for ID tokens, your app's client ID",
        ));
    }
    if t.algorithms.is_empty() {
        fail(invalid(
            "token.algorithms is empty".into(),
            "pin at least one algorithm, usually RS256",
        ));
    }
    if t.max_token_bytes < 64 {
        fail(invalid(
            "token.max_token_bytes is too small".into(),
            "the default is 16384",
        ));
    }
    let mut rules = Vec::with_capacity(doc.routes.len() + 1);
    let mut table = RouteTable::new();
    for (id, r) in &doc.routes {
        if !r.enabled {
            continue;
        }
        if r.paths.is_empty() {
            fail(invalid(
                format!("route {id:?} has no paths"),
                "add paths = [\"/...\"] or set enabled = false",
            ));
            continue;
        }
        match compile_rule(id, r) {
            Ok(rule) => {
                if let Err(e) = table.add(rules.len(), id, &r.paths, &r.methods, &r.hosts) {
                    fail(e);
                }
                rules.push(rule);
            }
            Err(e) => fail(e),
        }
    }
    let d = &doc.default;
    if !d.paths.is_empty() || !d.methods.is_empty() || !d.hosts.is_empty() {
        fail(invalid(
            "the default rule has paths, methods or hosts".into(),
            "the default applies to everything no route matches; move those to a route",
        ));
    }
    if !d.enabled {
        fail(invalid(
            "the default rule cannot be disabled".into(),
            "remove enabled = false from [default]",
        ));
    }
    if d.public {
        fail(invalid(
            "the default rule cannot be public: every path no route names would need no credential"
                .into(),
            "declare public paths as routes with public = true",
        ));
    }
    let default_rule = rules.len();
    match compile_rule("default", d) {
        Ok(rule) => rules.push(rule),
        Err(e) => fail(e),
    }
    let r = &doc.roles;
    let mut table_of = |map, what, guid| {
        role_table(map, what, guid).unwrap_or_else(|e| {
            fail(e);
            HashMap::new()
        })
    };
    let role_map = RoleMap {
        directory: table_of(&r.directory, "roles.directory ID", true),
        groups: table_of(&r.groups, "roles.groups ID", true),
        app_roles: table_of(&r.app_roles, "roles.app_roles value", false),
    };
    if doc.mfa.accepted_amr.is_empty() && !doc.mfa.accept_federated {
        fail(invalid(
            "mfa.accepted_amr is empty and federated MFA is not accepted: MFA could never be satisfied".into(),
            "keep accepted_amr = [\"mfa\"]",
        ));
    }
    let mut guid_list = |list: &[String], what| {
        guids(list, what).unwrap_or_else(|e| {
            fail(e);
            Vec::new()
        })
    };
    let tenants = guid_list(&t.tenants, "token.tenants entry");
    let partner_tenants = guid_list(&t.partner_tenants, "token.partner_tenants entry");
    let exceptions = ExceptionTable::build(&doc.exceptions, doc.rules).unwrap_or_else(|list| {
        errs.extend(list);
        ExceptionTable::default()
    });
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Compiled {
        rules,
        default_rule,
        table,
        audiences: cloud_audiences(&t.audiences, t.cloud),
        audience_trailing_slash: t.audience_trailing_slash,
        cloud: t.cloud,
        edition: doc.rules,
        algorithms: t.algorithms.clone(),
        skew: i64::try_from(t.clock_skew).unwrap_or(i64::MAX),
        max_bytes: t.max_token_bytes,
        tenants,
        partner_tenants,
        accepted_amr: doc.mfa.accepted_amr.clone(),
        accept_federated: doc.mfa.accept_federated,
        max_age: doc.mfa.max_age,
        sign_in_url: doc.mfa.sign_in_url.clone(),
        acr_values: doc.mfa.acr_values.clone(),
        auth_context: doc.mfa.auth_context.clone(),
        claims_b64: claims_challenge_value(doc.mfa.auth_context.as_deref()),
        role_map,
        exceptions,
    })
}

/// The base64 `claims` value of a claims challenge, computed once per policy.
pub fn claims_challenge_value(auth_context: Option<&str>) -> String {
    use base64::Engine;
    let json = match auth_context {
        Some(ctx) => {
            serde_json::json!({"access_token": {"acrs": {"essential": true, "value": ctx}}})
        }
        None => {
            serde_json::json!({"access_token": {"amr": {"essential": true, "values": ["mfa"]}}})
        }
    };
    base64::engine::general_purpose::STANDARD.encode(json.to_string())
}
