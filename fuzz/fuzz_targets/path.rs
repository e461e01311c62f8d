//! Any method and path: routing and normalisation. A path the gate lets
//! through without MFA must stay allowed however a router reads it (case
//! folded, escapes decoded, `;params` dropped, `//` collapsed): no reading
//! may select a stricter rule the gate skipped.
#![no_main]

#[path = "../common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mfagate::{Claims, Outcome, Request};
use std::sync::OnceLock;

/// What other routers may make of `path` (each a full path).
fn readings(path: &str) -> Vec<String> {
    let (p, _) = path.split_once('?').unwrap_or((path, ""));
    let mut out = vec![p.to_ascii_lowercase()];
    let no_params: Vec<&str> = p.split('/').map(|s| s.split(';').next().unwrap_or("")).collect();
    out.push(no_params.join("/"));
    let mut collapsed = p.replace("//", "/");
    while collapsed.contains("//") {
        collapsed = collapsed.replace("//", "/");
    }
    out.push(collapsed);
    if let Some(decoded) = percent_decode(p) {
        // ASP.NET Core and Java compare without case, folding these four
        // letters to ASCII; IIS drops trailing dots and spaces of segments.
        let folded: String = decoded
            .chars()
            .map(|c| match c {
                '\u{017F}' => 's',
                '\u{0131}' | '\u{0130}' => 'i',
                '\u{212A}' => 'k',
                c => c,
            })
            .collect();
        let iis: Vec<&str> = folded.split('/').map(|s| s.trim_end_matches(['.', ' '])).collect();
        out.push(iis.join("/"));
        out.push(folded);
        out.push(decoded);
    }
    out
}

fn percent_decode(p: &str) -> Option<String> {
    let b = p.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fuzz_target!(|data: &[u8]| {
    static GATES: OnceLock<Vec<mfagate::Gate>> = OnceLock::new();
    static CLAIMS: OnceLock<Option<Claims<'static>>> = OnceLock::new();
    let gates = GATES.get_or_init(common::gates);
    // A partner admin agent signed in without MFA.
    let Some(claims) = CLAIMS.get_or_init(|| {
        Claims::from_json(&serde_json::json!({
            "aud": common::CLIENT, "iss": format!("https://sts.windows.net/{}/", common::PARTNER),
            "tid": common::PARTNER, "sub": "s", "oid": "4988e250-5aee-482a-9136-6d269cb755c0",
            "amr": ["pwd"], "groups": [common::ADMINS], "iat": common::NOW - 60,
            "nbf": common::NOW - 60, "exp": common::NOW + 3600, "ver": "1.0"
        }).to_string()).ok()
    }) else { return };
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (method, path) = text.split_once(' ').unwrap_or(("GET", text));
    for gate in gates {
        let req = Request::new(path, common::NOW).method(method);
        let d = gate.evaluate_claims(claims, &req);
        common::check(gate, &d, &gate.evaluate_claims(claims, &req));
        if d.outcome != Outcome::Allow {
            continue;
        }
        for r in readings(path) {
            if !r.starts_with('/') {
                continue;
            }
            let other = gate.evaluate_claims(claims, &Request::new(&r, common::NOW).method(method));
            // A reading the gate refuses to read at all (400) is refused, not allowed.
            if other.reason == mfagate::Reason::RequestInvalid {
                continue;
            }
            assert_eq!(other.outcome, Outcome::Allow, "{path:?} is allowed but its reading {r:?} is not: {other:?}");
        }
    }
});
