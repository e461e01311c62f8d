//! Mutations of a vector's request: its path, method, host and clock, its
//! credential's bytes, its token's header and claims (re-signed with the
//! test keys, so the mutation reaches the rules and not only the signature
//! check), and its policy. Each mutation names itself, so a difference is
//! reported with how its case was made.

use crate::mint::{self, Keys, Sig};
use crate::rng::Rng;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// What the base cases share, to mix between them.
#[derive(Default)]
pub struct Pools {
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    pub tokens: Vec<String>,
    pub strings: Vec<String>,
    pub policies: Vec<Value>,
}

impl Pools {
    pub fn add(&mut self, policy: &Value, request: &Value) {
        if let Some(p) = request.get("path").and_then(Value::as_str) {
            self.paths.push(p.to_owned());
        }
        if let Some(h) = request.get("host").and_then(Value::as_str) {
            self.hosts.push(h.to_owned());
        }
        if let Some(t) = credential(request) {
            if let Some((_, payload)) = decode(&t) {
                collect_strings(&payload, &mut self.strings);
            }
            self.tokens.push(t);
        }
        self.policies.push(policy.clone());
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() < 200 => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// The token a request carries (session token, else the Authorization header's).
fn credential(request: &Value) -> Option<String> {
    if let Some(t) = request.get("token").and_then(Value::as_str) {
        return Some(t.to_owned());
    }
    let a = request.get("authorization").and_then(Value::as_str)?;
    Some(a.split_once(' ').map_or(a, |(_, t)| t).to_owned())
}

fn set_credential(request: &mut Value, token: String) {
    if request.get("token").is_some() {
        request["token"] = Value::String(token);
    } else if let Some(a) = request.get("authorization").and_then(Value::as_str) {
        let scheme = a.split_once(' ').map_or("Bearer", |(s, _)| s).to_owned();
        request["authorization"] = Value::String(format!("{scheme} {token}"));
    } else {
        request["authorization"] = Value::String(format!("Bearer {token}"));
    }
}

/// Header and payload of a compact JWS whose two first parts are JSON.
fn decode(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let h = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let p = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    Some((
        serde_json::from_slice(&h).ok()?,
        serde_json::from_slice(&p).ok()?,
    ))
}

const SEGMENTS: &[&str] = &[
    "/",
    "//",
    "\\",
    ";",
    ";a=b",
    "%2F",
    "%2f",
    "%5C",
    "%3F",
    "%23",
    "%00",
    "%",
    "%G1",
    ".",
    "..",
    "%2E",
    "%2e%2E",
    "?",
    "?x=/v1",
    "#",
    "A",
    "Z",
    "É",
    "%C3%A9",
    "%E2%80%8B",
    "*",
    "~",
    " ",
    "%20",
    "\t",
    "v1",
    "commerce",
    "customers",
    "dashboard",
    "api",
    "partner",
    "admin",
    "index.html",
];

const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "get", "Get",
    "", "G ET", "GET\n", "FOO",
];

const CLAIMS: &[&str] = &[
    "aud",
    "iss",
    "tid",
    "oid",
    "sub",
    "amr",
    "scp",
    "roles",
    "groups",
    "wids",
    "idtyp",
    "appid",
    "azp",
    "appidacr",
    "azpacr",
    "upn",
    "unique_name",
    "preferred_username",
    "exp",
    "nbf",
    "iat",
    "auth_time",
    "ver",
    "hasgroups",
    "_claim_names",
    "_claim_sources",
    "aai",
    "idp",
    "acrs",
    "acr",
    "nonce",
    "name",
    "email",
    "xms_cc",
];

const STRINGS: &[&str] = &[
    "mfa",
    "MFA",
    "mfa ",
    " mfa",
    "ｍｆａ",
    "mfa\u{200b}",
    "pwd",
    "rsa",
    "otp",
    "fido",
    "wia",
    "ngcmfa",
    "1",
    "0",
    "2",
    "true",
    "false",
    "user",
    "app",
    "",
    "1.0",
    "2.0",
    "null",
    "e",
    "-1",
    "1e3",
    "9999999999999999999999",
    "user_impersonation",
    "Admin Agent",
    "AdminAgents",
    "Directory.Read.All",
    "https://api.partnercenter.microsoft.com",
    "https://api.partnercenter.microsoft.com/",
    "https://login.microsoftonline.com/common/v2.0",
    "08372b87-7d02-482a-9e02-fb03ea5fe193",
    "62e90394-69f5-4237-9190-012177145e10",
    "00000000-0000-0000-0000-000000000000",
    "not-a-guid",
];

fn random_string(rng: &mut Rng, pools: &Pools) -> Value {
    if rng.chance(1, 2) {
        if let Some(s) = rng.pick(&pools.strings) {
            return Value::String(s.clone());
        }
    }
    Value::String(STRINGS[rng.below(STRINGS.len())].to_owned())
}

fn random_value(rng: &mut Rng, pools: &Pools, now: i64) -> Value {
    match rng.below(10) {
        0..=2 => random_string(rng, pools),
        3 | 4 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_string(rng, pools))
                .collect(),
        ),
        5 => json!(now + [-86_400, -3_600, -61, -1, 0, 1, 59, 3_600, 86_400][rng.below(9)]),
        6 => [
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1e300),
            json!(u64::MAX),
            json!(i64::MIN),
        ][rng.below(6)]
        .clone(),
        7 => Value::Bool(rng.chance(1, 2)),
        8 => Value::Null,
        _ => json!({ "k": random_string(rng, pools) }),
    }
}

/// Applies one random mutation to `(policy, request)`; returns its name.
pub fn mutate(
    rng: &mut Rng,
    keys: &Keys,
    pools: &Pools,
    policy: &mut Value,
    request: &mut Value,
) -> String {
    let now = request.get("now").and_then(Value::as_i64).unwrap_or(0);
    match rng.below(12) {
        0 | 1 => path(rng, pools, request),
        2 => {
            let m = METHODS[rng.below(METHODS.len())];
            request["method"] = Value::String(m.to_owned());
            format!("method {m:?}")
        }
        3 => {
            let shift = [
                -86_400, -3_601, -3_600, -301, -300, -61, -60, -1, 1, 60, 61, 300, 301, 3_600,
                3_601, 86_400,
            ];
            let s = shift[rng.below(shift.len())];
            request["now"] = json!(now + s);
            format!("now {s:+}")
        }
        4..=7 => claims(rng, keys, pools, request, now),
        8 => header(rng, keys, request),
        9 => bytes(rng, pools, request),
        10 => {
            let Some(p) = rng.pick(&pools.policies) else {
                return "none".into();
            };
            *policy = p.clone();
            "policy of another case".into()
        }
        _ => other_fields(rng, pools, request),
    }
}

fn path(rng: &mut Rng, pools: &Pools, request: &mut Value) -> String {
    let mut p = request
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or("/")
        .to_owned();
    if rng.chance(1, 5) {
        if let Some(o) = rng.pick(&pools.paths) {
            p = o.clone();
        }
    }
    let mut chars: Vec<char> = p.chars().collect();
    match rng.below(4) {
        0 => {
            let i = rng.below(chars.len() + 1);
            let seg: Vec<char> = SEGMENTS[rng.below(SEGMENTS.len())].chars().collect();
            chars.splice(i..i, seg);
        }
        1 if !chars.is_empty() => {
            let i = rng.below(chars.len());
            let c = chars[i];
            chars[i] = if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
        }
        2 if !chars.is_empty() => {
            chars.remove(rng.below(chars.len()));
        }
        _ => {
            let prefix: Vec<char> = format!(
                "/{}",
                ["api", "app", "v1", "commerce", "", "%2e"][rng.below(6)]
            )
            .chars()
            .collect();
            chars.splice(0..0, prefix);
        }
    }
    let p: String = chars.into_iter().collect();
    request["path"] = Value::String(p.clone());
    format!("path {p:?}")
}

fn claims(rng: &mut Rng, keys: &Keys, pools: &Pools, request: &mut Value, now: i64) -> String {
    let Some((header, Value::Object(mut claims))) = credential(request).as_deref().and_then(decode)
    else {
        return bytes(rng, pools, request);
    };
    let name = CLAIMS[rng.below(CLAIMS.len())];
    let what = match rng.below(5) {
        0 => {
            claims.remove(name);
            format!("claim {name} removed")
        }
        1 if name == "amr" || name == "roles" || name == "groups" || name == "wids" => {
            let mut list = claims
                .get(name)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let v = random_string(rng, pools);
            list.push(v.clone());
            claims.insert(name.into(), Value::Array(list));
            format!("claim {name} += {v}")
        }
        2 => {
            // Copy a value of the same claim from another token.
            let other = rng
                .pick(&pools.tokens)
                .and_then(|t| decode(t))
                .and_then(|(_, p)| p.get(name).cloned());
            let v = other.unwrap_or_else(|| random_value(rng, pools, now));
            claims.insert(name.into(), v.clone());
            format!("claim {name} = {v}")
        }
        _ => {
            let v = random_value(rng, pools, now);
            claims.insert(name.into(), v.clone());
            format!("claim {name} = {v}")
        }
    };
    set_credential(request, resign(keys, &header, &Value::Object(claims)));
    what
}

/// Signs `payload` under `header` with the test key its `alg` and `kid` name
/// (RS256 with rsa-1 when none fits), so it verifies where the original did.
fn resign(keys: &Keys, header: &Value, payload: &Value) -> String {
    let kid = header.get("kid").and_then(Value::as_str).unwrap_or("");
    let sig = match header.get("alg").and_then(Value::as_str) {
        Some("HS256") => Sig::Hs256(&keys.secret),
        Some("ES256") => Sig::Es256(&keys.ec),
        Some("PS256") if kid == mint::ROTATED_KID => Sig::Ps256(&keys.rotated, 7),
        Some("PS256") => Sig::Ps256(&keys.rsa, 7),
        _ if kid == mint::ROTATED_KID => Sig::Rs256(&keys.rotated),
        _ => Sig::Rs256(&keys.rsa),
    };
    mint::sign(header, payload, sig)
}

fn header(rng: &mut Rng, keys: &Keys, request: &mut Value) -> String {
    let Some((Value::Object(mut h), payload)) = credential(request).as_deref().and_then(decode)
    else {
        return "none".into();
    };
    let what = match rng.below(8) {
        0 => {
            let alg = [
                "none", "None", "HS256", "RS384", "rs256", "ES256", "PS256", "",
            ][rng.below(8)];
            h.insert("alg".into(), json!(alg));
            format!("alg {alg:?}")
        }
        1 => {
            let kid = ["rsa-1", "rsa-2", "ec-1", "hs-1", "", "RSA-1", "rsa-1 "][rng.below(7)];
            h.insert("kid".into(), json!(kid));
            format!("kid {kid:?}")
        }
        2 => {
            h.remove("kid");
            "kid removed".into()
        }
        3 => {
            h.insert("crit".into(), json!(["exp"]));
            "crit".into()
        }
        4 => {
            let k = ["jku", "x5u", "jwk", "x5c"][rng.below(4)];
            h.insert(k.into(), json!("https://attacker.example/keys"));
            format!("header {k}")
        }
        5 => {
            let typ = ["JWT", "at+jwt", "jwt", "JOSE", ""][rng.below(5)];
            h.insert("typ".into(), json!(typ));
            format!("typ {typ:?}")
        }
        6 => {
            h.insert("alg".into(), json!("HS256"));
            // Key confusion: the RSA public key's DER as the HMAC secret.
            let der = keys.rsa_public_der();
            set_credential(
                request,
                mint::sign(&Value::Object(h), &payload, Sig::Hs256(&der)),
            );
            return "HS256 with the RSA public key".into();
        }
        _ => {
            h.insert("zip".into(), json!("DEF"));
            "zip".into()
        }
    };
    set_credential(request, resign(keys, &Value::Object(h), &payload));
    what
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn bytes(rng: &mut Rng, pools: &Pools, request: &mut Value) -> String {
    let Some(t) = credential(request) else {
        return "none".into();
    };
    let mut b = t.into_bytes();
    let what = match rng.below(7) {
        0 if !b.is_empty() => {
            let i = rng.below(b.len());
            b[i] = B64[rng.below(B64.len())];
            format!("byte {i} replaced")
        }
        1 if !b.is_empty() => {
            let n = rng.below(b.len());
            b.truncate(n);
            format!("truncated to {n}")
        }
        2 => {
            b.extend_from_slice([".", "..", "=", "==", " ", "A", ".e30"][rng.below(7)].as_bytes());
            "suffix".into()
        }
        3 => {
            if let Some(dot) = b.iter().rposition(|&c| c == b'.') {
                b.truncate(dot + 1);
            }
            "signature removed".into()
        }
        4 => {
            // Another token's signature on this header and payload.
            let other = rng
                .pick(&pools.tokens)
                .and_then(|o| o.rsplit('.').next().map(str::to_owned));
            if let (Some(dot), Some(sig)) = (b.iter().rposition(|&c| c == b'.'), other) {
                b.truncate(dot + 1);
                b.extend_from_slice(sig.as_bytes());
            }
            "signature of another token".into()
        }
        5 => {
            b = rng
                .pick(&pools.tokens)
                .cloned()
                .unwrap_or_default()
                .into_bytes();
            "token of another case".into()
        }
        _ => {
            let i = rng.below(b.len() + 1);
            b.insert(i, [b'.', b'%', b'+', b'/', b'=', b' '][rng.below(6)]);
            format!("byte inserted at {i}")
        }
    };
    set_credential(request, String::from_utf8_lossy(&b).into_owned());
    what
}

fn other_fields(rng: &mut Rng, pools: &Pools, request: &mut Value) -> String {
    let Some(r) = request.as_object_mut() else {
        return "none".into();
    };
    match rng.below(5) {
        0 => {
            let h = rng
                .pick(&pools.hosts)
                .cloned()
                .unwrap_or_else(|| "partner.example".into());
            let h = [
                h.clone(),
                h.to_uppercase(),
                format!("{h}:443"),
                format!("{h}."),
                "evil.example".into(),
            ][rng.below(5)]
            .clone();
            r.insert("host".into(), json!(h));
            format!("host {h:?}")
        }
        1 => {
            let v = rng.chance(1, 2);
            r.insert("mfa_registered".into(), json!(v));
            format!("mfa_registered {v}")
        }
        2 => {
            let v = rng.chance(1, 2);
            r.insert("validate_mfa".into(), json!(v));
            format!("validate_mfa {v}")
        }
        3 => {
            // The credential moves between the session and the header.
            if let Some(Value::String(t)) = r.remove("token") {
                r.insert("authorization".into(), json!(format!("Bearer {t}")));
                "token to Authorization".into()
            } else if let Some(Value::String(a)) = r.remove("authorization") {
                let t = a.split_once(' ').map_or(a.as_str(), |(_, t)| t).to_owned();
                r.insert("token".into(), json!(t));
                "Authorization to token".into()
            } else {
                "none".into()
            }
        }
        _ => {
            let Some(Value::String(a)) = r.get("authorization").cloned() else {
                return "none".into();
            };
            let t = a.split_once(' ').map_or(a.as_str(), |(_, t)| t);
            let scheme = [
                "bearer", "BEARER", "Basic", "Bearer ", "Bearer\t", "", "Bearer,",
            ][rng.below(7)];
            r.insert("authorization".into(), json!(format!("{scheme} {t}")));
            format!("scheme {scheme:?}")
        }
    }
}

/// Drops keys a request must not carry with a null value (the vectors'
/// request form has no nulls).
pub fn tidy(request: &mut Value) {
    if let Some(r) = request.as_object_mut() {
        let nulls: Vec<String> = r
            .iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k.clone())
            .collect();
        for k in nulls {
            r.remove(&k);
        }
    }
}
