//! Human-readable output.

use mfagate::inspect::Inspection;
use mfagate::policy::lint::{Problem, Severity};
use mfagate::Decision;

fn roles(r: mfagate::RoleSet) -> String {
    let v: Vec<&str> = r.iter().map(|r| r.as_str()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

pub fn decision(d: &Decision, lang: &str) {
    println!("outcome   {} ({})", d.outcome.as_str(), d.reason);
    println!(
        "rule      {}   kind {}{}",
        d.rule.as_deref().unwrap_or("-"),
        d.token_kind.map_or("-", |k| k.as_str()),
        d.kind_evidence
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    );
    println!("roles     {}", roles(d.roles));
    let m = &d.mfa;
    let amr = m
        .amr
        .as_ref()
        .map_or("absent".to_string(), |a| format!("[{}]", a.join(", ")));
    println!(
        "mfa       {}, {}; amr {amr}{}",
        if m.required {
            "required"
        } else {
            "not required"
        },
        if m.satisfied {
            "satisfied"
        } else {
            "not satisfied"
        },
        m.evidence
            .map(|e| format!("; evidence {e}"))
            .unwrap_or_default()
    );
    if let Some(e) = &d.exception {
        println!(
            "exception {} for tenant {} until {}",
            e.reason, e.tenant, e.expires
        );
    }
    println!("http      {} {}", d.http.status, d.http.status_text);
    for (k, v) in &d.http.headers {
        println!("          {k}: {v}");
    }
    if let Some(r) = &d.redirect {
        if r.register_first {
            println!("          (register an MFA method first)");
        }
    }
    println!("message   {}", d.message.get(lang));
    if let Some(detail) = &d.detail {
        println!("detail    {detail}");
    }
}

pub fn inspection(i: &Inspection, lang: &str) {
    println!(
        "UNVERIFIED: the signature was not checked; the rules below are decided on its claims as of the time shown."
    );
    println!(
        "time      {} ({})",
        mfagate::format_rfc3339(i.evaluated_at),
        i.evaluated_at
    );
    for (name, label) in [
        ("iat", "issued"),
        ("nbf", "not before"),
        ("exp", "expires"),
        ("auth_time", "signed in"),
    ] {
        if let Some(t) = i.claims.get(name).and_then(serde_json::Value::as_f64) {
            let t = t.floor() as i64;
            let flag = match name {
                "exp" if t <= i.evaluated_at => "   EXPIRED",
                "nbf" | "iat" if t > i.evaluated_at => "   NOT YET VALID",
                _ => "",
            };
            println!("{label:<10}{} ({t}){flag}", mfagate::format_rfc3339(t));
        }
    }
    println!("kind      {} ({})", i.kind.as_str(), i.kind_evidence);
    println!("version   {}", i.version.as_deref().unwrap_or("-"));
    let get = |k: &str| {
        i.claims
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("-")
            .to_owned()
    };
    println!("tenant    {}   issuer {}", get("tid"), get("iss"));
    if let Some(t) = &i.assumed_partner_tenant {
        println!("          taken as the partner tenant (the policy names none in token.partner_tenants)");
        debug_assert_eq!(t, &get("tid"));
    }
    println!(
        "user      {}   app {}",
        get("upn"),
        if get("appid") == "-" {
            get("azp")
        } else {
            get("appid")
        }
    );
    let amr = i
        .mfa
        .amr
        .as_ref()
        .map_or("absent".to_string(), |a| format!("[{}]", a.join(", ")));
    println!(
        "mfa       amr {amr}; contains \"mfa\": {}; federated multipleauthn: {}",
        if i.mfa.amr_has_mfa { "yes" } else { "no" },
        if i.mfa.federated_mfa { "yes" } else { "no" }
    );
    println!(
        "roles     {}{}",
        roles(i.roles),
        if i.groups_overage {
            " (group overage: group roles unknown)"
        } else {
            ""
        }
    );
    println!("\npolicy {}:", i.policy);
    for r in &i.rules {
        let d = &r.decision;
        println!(
            "  {:<18} {:<40} {:<8} {:<28} {}",
            r.rule,
            r.path,
            d.outcome.as_str(),
            d.reason.as_str(),
            d.http.status
        );
        println!("  {:<18} {}", "", d.message.get(lang));
    }
}

pub fn problems(file: &str, ps: &[Problem]) {
    if ps.is_empty() {
        println!("{file}: no problems");
    }
    for p in ps {
        let sev = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        println!("{file}{at}: {sev}[{}]: {}", p.code, p.message);
        if !p.hint.is_empty() {
            println!("  hint: {}", p.hint);
        }
    }
}
