//! Policies: loading (built-in, TOML, JSON, with overrides), validation and
//! compilation into the lookup structures a decision uses.

pub mod doc;
pub mod exceptions;
pub mod lint;
pub mod routes;

use crate::error::{Error, ErrorCode, Result};
use crate::guid::is_guid;
use crate::jws::Algorithm;
use crate::kind::{KindSet, TokenKind};
use crate::roles::{Role, RoleMap, RoleSet};
use doc::{ChallengeStyle, PolicyDoc, RulesVersion, FORMAT_VERSION};
use exceptions::ExceptionTable;
use routes::RouteTable;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The built-in policies, by name: core/policies/*.toml (the documented
/// source), compiled to JSON by build.rs.
const BUILTINS: &[(&str, &str)] = &[
    (
        "partner-center-2019",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2019.json")),
    ),
    (
        "partner-center-2020",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2020.json")),
    ),
    (
        "partner-center-2025",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2025.json")),
    ),
    (
        "partner-center-2026",
        include_str!(concat!(env!("OUT_DIR"), "/partner-center-2026.json")),
    ),
];

/// Names accepted by [`Policy::builtin`]; `partner-center` is the default, 2020.
pub const BUILTIN_NAMES: &[&str] = &[
    "partner-center",
    "partner-center-2019",
    "partner-center-2020",
    "partner-center-2025",
    "partner-center-2026",
];

/// The name `partner-center` stands for.
pub const DEFAULT_BUILTIN: &str = "partner-center-2020";

/// One compiled rule: a route, or the default.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Arc<str>,
    /// No credential needed (`public = true`).
    pub public: bool,
    pub mfa: bool,
    pub kinds: KindSet,
    pub roles: RoleSet,
    pub challenge: ChallengeStyle,
    pub max_age: Option<u64>,
}

/// Everything a decision needs, built once.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub rules: Vec<Rule>,
    pub default_rule: usize,
    pub table: RouteTable,
    pub audiences: Vec<String>,
    pub audience_trailing_slash: bool,
    pub cloud: crate::cloud::Cloud,
    pub edition: RulesVersion,
    pub algorithms: Vec<Algorithm>,
    pub skew: i64,
    pub max_bytes: usize,
    pub tenants: Vec<String>,
    pub partner_tenants: Vec<String>,
    pub accepted_amr: Vec<String>,
    pub accept_federated: bool,
    pub max_age: Option<u64>,
    pub sign_in_url: String,
    pub acr_values: String,
    /// The base64 `claims` of a claims challenge, computed once.
    pub claims_b64: String,
    pub role_map: RoleMap,
    pub exceptions: ExceptionTable,
}

/// A validated, compiled policy. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Policy {
    doc: Arc<PolicyDoc>,
    pub(crate) compiled: Arc<Compiled>,
}

fn canonical_name(name: &str) -> &str {
    if name == "partner-center" {
        DEFAULT_BUILTIN
    } else {
        name
    }
}

fn builtin_source(name: &str) -> Result<&'static str> {
    let name = canonical_name(name);
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, src)| *src)
        .ok_or_else(|| {
            Error::new(
                ErrorCode::PolicyUnknownBuiltin,
                format!("there is no built-in policy named {name:?}"),
                format!("use one of: {}", BUILTIN_NAMES.join(", ")),
            )
        })
}

#[cfg(feature = "toml")]
include!("toml_json.rs");

#[cfg(feature = "toml")]
fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Parses TOML text into a JSON value.
#[cfg(feature = "toml")]
pub fn parse_toml(src: &str) -> Result<Value> {
    let table: toml::Table = toml::from_str(src).map_err(|e| {
        let line = e.span().map(|s| line_of(src, s.start));
        Error::new(
            ErrorCode::PolicySyntax,
            format!("the policy is not valid TOML: {}", e.message()),
            "check quoting and brackets near that line (dates such as expires must be quoted strings or TOML dates)",
        )
        .at_line(line)
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

/// Parses JSON text into a JSON value.
pub fn parse_json(src: &str) -> Result<Value> {
    serde_json::from_str(src).map_err(|e| {
        Error::new(
            ErrorCode::PolicySyntax,
            format!("the policy is not valid JSON: {e}"),
            "check commas, quotes and brackets near that line",
        )
        .at_line(Some(e.line()))
    })
}

/// RFC 7396 JSON Merge Patch: objects merge, everything else replaces, and
/// `null` removes.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Resolves `extends` chains (at most 8 deep) into one document value.
fn resolve_extends(mut v: Value, depth: usize) -> Result<Value> {
    let base = match v.as_object_mut().and_then(|o| o.remove("extends")) {
        None => return Ok(v),
        Some(Value::String(name)) => name,
        Some(_) => {
            return Err(Error::new(
                ErrorCode::PolicyInvalid,
                "extends must be the name of a built-in policy",
                format!("use one of: {}", BUILTIN_NAMES.join(", ")),
            ))
        }
    };
    if depth >= 8 {
        return Err(Error::new(
            ErrorCode::PolicyInvalid,
            "extends chain is too deep",
            "extend a built-in policy directly",
        ));
    }
    let mut merged = resolve_extends(parse_json(builtin_source(&base)?)?, depth + 1)?;
    merge_patch(&mut merged, &v);
    Ok(merged)
}

impl Policy {
    /// A built-in policy: `partner-center` (= 2020), `partner-center-2019`,
    /// `partner-center-2020`, `partner-center-2025`, `partner-center-2026`
    /// (what Partner Center enforces today).
    pub fn builtin(name: &str) -> Result<Policy> {
        Policy::from_value(parse_json(builtin_source(name)?)?)
    }

    /// A policy from TOML text (may `extends` a built-in).
    #[cfg(feature = "toml")]
    pub fn from_toml(src: &str) -> Result<Policy> {
        Policy::from_value(parse_toml(src)?)
    }

    /// A policy from JSON text (may `extends` a built-in).
    pub fn from_json(src: &str) -> Result<Policy> {
        Policy::from_value(parse_json(src)?)
    }

    /// A policy from a file: `.json` is JSON, anything else TOML. Errors carry
    /// the line they were found on where it can be told.
    pub fn from_file(path: &std::path::Path) -> Result<Policy> {
        let src = std::fs::read_to_string(path).map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "no such file".to_owned()
            } else {
                e.to_string()
            };
            Error::new(
                ErrorCode::PolicyFileUnreadable,
                format!("cannot read the policy file {}: {why}", path.display()),
                "check the path (relative paths start from the working directory) and its permissions",
            )
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        #[cfg(feature = "toml")]
        let r = if is_json {
            Policy::from_json(&src)
        } else {
            Policy::from_toml(&src)
        };
        #[cfg(not(feature = "toml"))]
        let r = if is_json {
            Policy::from_json(&src)
        } else {
            Err(toml_unsupported())
        };
        r.map_err(|e| {
            let line = e.line.or_else(|| lint::locate(&src, &e.message));
            e.at_line(line)
        })
    }

    /// A policy from a JSON value (may `extends` a built-in).
    pub fn from_value(v: Value) -> Result<Policy> {
        let v = resolve_extends(v, 0)?;
        let doc: PolicyDoc = serde_json::from_value(v).map_err(|e| {
            Error::new(
                ErrorCode::PolicyInvalid,
                format!("the policy does not fit format {FORMAT_VERSION}: {e}"),
                "compare it with `mfagate policy schema` or `mfagate policy show partner-center`",
            )
        })?;
        Policy::from_doc(doc)
    }

    /// Every problem that keeps a document from loading (empty when it
    /// loads): `policy lint` reports them all, where loading stops at the
    /// first.
    pub fn problems(doc: &PolicyDoc) -> Vec<Error> {
        compile(doc).err().unwrap_or_default()
    }

    /// Validates and compiles a document.
    pub fn from_doc(doc: PolicyDoc) -> Result<Policy> {
        let compiled = compile(&doc).map_err(|mut errs| errs.swap_remove(0))?;
        Ok(Policy {
            doc: Arc::new(doc),
            compiled: Arc::new(compiled),
        })
    }

    /// This policy with an RFC 7396 merge patch applied: change paths,
    /// audiences, group IDs or options without copying the whole policy.
    pub fn with_overrides(&self, patch: &Value) -> Result<Policy> {
        let mut v = serde_json::to_value(&*self.doc).map_err(|e| {
            Error::new(
                ErrorCode::PolicyInvalid,
                format!("cannot re-encode the policy: {e}"),
                "",
            )
        })?;
        merge_patch(&mut v, patch);
        Policy::from_value(v)
    }

    /// A policy given as one string, as every binding and the CLI read it:
    /// a built-in name (`partner-center`, `partner-center-2026`…); the JSON
    /// text of a spec (it starts with `{`: see [`Policy::from_spec`]); or
    /// the path of a policy file (it ends in `.toml` or `.json`, or holds a
    /// `/` or `\`), where a missing file is "no such file". Anything else is
    /// an unknown built-in name.
    pub fn from_spec_str(spec: &str) -> Result<Policy> {
        let s = spec.trim();
        if BUILTIN_NAMES.contains(&s) {
            return Policy::builtin(s);
        }
        if s.starts_with('{') {
            return Policy::from_spec(&parse_json(s)?);
        }
        let lower = s.to_ascii_lowercase();
        if lower.ends_with(".toml") || lower.ends_with(".json") || s.contains(['/', '\\']) {
            return Policy::from_file(std::path::Path::new(s));
        }
        Err(Error::new(
            ErrorCode::PolicyUnknownBuiltin,
            format!("there is no built-in policy named {s:?}"),
            format!(
                "use one of: {}; a policy file's path ends in .toml or .json",
                BUILTIN_NAMES.join(", ")
            ),
        ))
    }

    /// A policy from the spec used by conformance vectors and bindings:
    /// `"name"`, `{"builtin": "name", "overrides": {...}}` or
    /// `{"policy": {...}, "overrides": {...}}`.
    pub fn from_spec(spec: &Value) -> Result<Policy> {
        let bad = || {
            Error::new(
                ErrorCode::PolicyInvalid,
                "a policy spec is a built-in name, {\"builtin\": name} or {\"policy\": {...}}, each with optional \"overrides\"",
                "for example {\"builtin\": \"partner-center-2020\", \"overrides\": {\"token\": {\"audiences\": [\"...\"]}}}",
            )
        };
        let (base, overrides) = match spec {
            Value::String(s) => (Policy::from_spec_str(s)?, None),
            Value::Object(o) => {
                let base = match (o.get("builtin"), o.get("policy")) {
                    (Some(Value::String(name)), None) => Policy::builtin(name)?,
                    (None, Some(p)) => Policy::from_value(p.clone())?,
                    _ => return Err(bad()),
                };
                if o.keys()
                    .any(|k| !matches!(k.as_str(), "builtin" | "policy" | "overrides"))
                {
                    return Err(bad());
                }
                (base, o.get("overrides"))
            }
            _ => return Err(bad()),
        };
        match overrides {
            Some(p) => base.with_overrides(p),
            None => Ok(base),
        }
    }

    pub fn doc(&self) -> &PolicyDoc {
        &self.doc
    }

    pub fn name(&self) -> &str {
        &self.doc.name
    }

    /// The compiled rules, routes first (by id), the default last.
    pub fn rules(&self) -> &[Rule] {
        &self.compiled.rules
    }

    /// The resolved document as TOML (for `policy show`).
    #[cfg(feature = "toml")]
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(&*self.doc).map_err(|e| {
            Error::new(
                ErrorCode::PolicyInvalid,
                format!("cannot encode as TOML: {e}"),
                "",
            )
        })
    }

    /// The JSON Schema of the policy format.
    #[cfg(feature = "schema")]
    pub fn json_schema() -> Value {
        serde_json::to_value(schemars::schema_for!(PolicyDoc)).unwrap_or(Value::Null)
    }
}

/// The error for a TOML policy in a build without the `toml` feature.
#[cfg(not(feature = "toml"))]
pub(crate) fn toml_unsupported() -> Error {
    Error::new(
        ErrorCode::PolicySyntax,
        "this build reads policies as JSON only (it was built without the toml feature)",
        "pass the policy as JSON, or build mfagate with the toml feature",
    )
}

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
fn compile(doc: &PolicyDoc) -> Result<Compiled, Vec<Error>> {
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
        claims_b64: crate::answer::claims_challenge_value(doc.mfa.auth_context.as_deref()),
        role_map,
        exceptions,
    })
}

impl RulesVersion {
    /// The built-in policy that encodes this edition.
    pub fn builtin_name(self) -> &'static str {
        match self {
            RulesVersion::V2019 => "partner-center-2019",
            RulesVersion::V2020 => "partner-center-2020",
            RulesVersion::V2025 => "partner-center-2025",
            RulesVersion::V2026 => "partner-center-2026",
        }
    }
}

#[cfg(all(test, feature = "toml", feature = "schema"))]
mod tests {
    use super::*;

    #[test]
    fn builtins_load() {
        for n in BUILTIN_NAMES {
            let p = Policy::builtin(n).unwrap();
            assert!(p.rules().len() >= 3, "{n}");
        }
        assert_eq!(
            Policy::builtin("partner-center").unwrap().name(),
            "partner-center-2020"
        );
        assert_eq!(
            Policy::builtin("nope").unwrap_err().code,
            ErrorCode::PolicyUnknownBuiltin
        );
    }

    #[test]
    fn overrides_patch_without_copying() {
        let p = Policy::builtin("partner-center")
            .unwrap()
            .with_overrides(&serde_json::json!({"routes": {"billing": {"paths": ["/pay/**"]}}}))
            .unwrap();
        assert_eq!(p.doc().routes["billing"].paths, vec!["/pay/**"]);
        assert!(p.doc().routes["billing"].mfa);
    }

    #[test]
    fn invalid_exception_reason_refuses_to_load_with_the_seed_answer() {
        let e = Policy::from_toml(
            r#"
extends = "partner-center-2020"
[[exceptions]]
tenant = "df845f1a-7b35-40a2-ba78-6481de91f8ae"
reason = "needs_more_time"
expires = "2030-01-01"
"#,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ExceptionReasonInvalid);
        assert!(
            e.message
                .contains("Partner needs to make plans to implement MFA"),
            "{e}"
        );
    }

    #[test]
    fn unknown_fields_and_roles_are_refused() {
        let e = Policy::from_toml("extends = \"partner-center\"\n[token]\naudience = [\"x\"]\n")
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyInvalid);
        let e = Policy::from_toml(
            "extends = \"partner-center\"\n[routes.x]\npaths=[\"/x\"]\nroles=[\"janitor\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyInvalid);
        assert!(e.message.contains("janitor"));
    }

    #[test]
    fn toml_syntax_errors_carry_a_line() {
        let e = Policy::from_toml("format = 1\nname = \"x\nrules = \"2020\"\n").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicySyntax);
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn one_rule_for_a_policy_given_as_a_string() {
        assert_eq!(
            Policy::from_spec_str("partner-center-2026").unwrap().name(),
            "partner-center-2026"
        );
        assert_eq!(
            Policy::from_spec_str(" partner-center ").unwrap().name(),
            "partner-center-2020"
        );
        let json = r#"{"builtin": "partner-center-2019", "overrides": {"name": "mine"}}"#;
        assert_eq!(Policy::from_spec_str(json).unwrap().name(), "mine");
        // A mistyped file name says so; it is never "no built-in policy".
        let e = Policy::from_spec_str("no-such-policy.toml").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyFileUnreadable);
        assert!(e.message.contains("no such file"), "{e}");
        let e = Policy::from_spec_str("./policies/mine").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyFileUnreadable);
        let e = Policy::from_spec_str("partner-centre").unwrap_err();
        assert_eq!(e.code, ErrorCode::PolicyUnknownBuiltin);
        assert!(e.hint.contains(".toml or .json"));
        assert!(Policy::from_spec(&serde_json::json!("partner-center-2025")).is_ok());
    }

    #[test]
    fn schema_is_an_object() {
        let s = Policy::json_schema();
        assert!(s["properties"]["routes"].is_object());
    }
}
