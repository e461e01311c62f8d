//! Human-readable output. Every line goes through a writer, so that a closed
//! pipe is an error to stop on, not a panic of `println!`.

use mfagate::inspect::Inspection;
use mfagate::policy::lint::{Problem, Severity};
use mfagate::Decision;
use std::io::{self, Write};

fn roles(r: mfagate::RoleSet) -> String {
    let v: Vec<&str> = r.iter().map(|r| r.as_str()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

pub fn decision(out: &mut dyn Write, d: &Decision, lang: &str) -> io::Result<()> {
    writeln!(out, "outcome   {} ({})", d.outcome.as_str(), d.reason)?;
    writeln!(
        out,
        "rule      {}   kind {}{}",
        d.rule.as_deref().unwrap_or("-"),
        d.token_kind.map_or("-", |k| k.as_str()),
        d.kind_evidence
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    )?;
    writeln!(out, "roles     {}", roles(d.roles))?;
    let m = &d.mfa;
    let amr = m
        .amr
        .as_ref()
        .map_or("absent".to_string(), |a| format!("[{}]", a.join(", ")));
    writeln!(
        out,
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
    )?;
    if let Some(e) = &d.exception {
        writeln!(
            out,
            "exception {} for tenant {} until {}",
            e.reason, e.tenant, e.expires
        )?;
    }
    writeln!(out, "http      {} {}", d.http.status, d.http.status_text)?;
    for (k, v) in &d.http.headers {
        writeln!(out, "          {k}: {v}")?;
    }
    if let Some(r) = &d.redirect {
        if r.register_first {
            writeln!(out, "          (register an MFA method first)")?;
        }
    }
    writeln!(out, "message   {}", d.message.get(lang))?;
    if let Some(detail) = &d.detail {
        writeln!(out, "detail    {detail}")?;
    }
    Ok(())
}

pub fn inspection(out: &mut dyn Write, i: &Inspection, lang: &str) -> io::Result<()> {
    writeln!(out,
        "UNVERIFIED: the signature was not checked; the rules below are decided on its claims as of the time shown."
    )?;
    writeln!(
        out,
        "time      {} ({})",
        mfagate::format_rfc3339(i.evaluated_at),
        i.evaluated_at
    )?;
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
            writeln!(out, "{label:<10}{} ({t}){flag}", mfagate::format_rfc3339(t))?;
        }
    }
    writeln!(out, "kind      {} ({})", i.kind.as_str(), i.kind_evidence)?;
    writeln!(out, "version   {}", i.version.as_deref().unwrap_or("-"))?;
    let get = |k: &str| {
        i.claims
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("-")
            .to_owned()
    };
    writeln!(out, "tenant    {}   issuer {}", get("tid"), get("iss"))?;
    if let Some(t) = &i.assumed_partner_tenant {
        writeln!(out, "          taken as the partner tenant (the policy names none in token.partner_tenants)")?;
        debug_assert_eq!(t, &get("tid"));
    }
    writeln!(
        out,
        "user      {}   app {}",
        get("upn"),
        if get("appid") == "-" {
            get("azp")
        } else {
            get("appid")
        }
    )?;
    let amr = i
        .mfa
        .amr
        .as_ref()
        .map_or("absent".to_string(), |a| format!("[{}]", a.join(", ")));
    writeln!(
        out,
        "mfa       amr {amr}; contains \"mfa\": {}; federated multipleauthn: {}",
        if i.mfa.amr_has_mfa { "yes" } else { "no" },
        if i.mfa.federated_mfa { "yes" } else { "no" }
    )?;
    writeln!(
        out,
        "roles     {}{}",
        roles(i.roles),
        if i.groups_overage {
            " (group overage: group roles unknown)"
        } else {
            ""
        }
    )?;
    writeln!(out, "\npolicy {}:", i.policy)?;
    for r in &i.rules {
        let d = &r.decision;
        writeln!(
            out,
            "  {:<18} {:<40} {:<8} {:<28} {}",
            r.rule,
            r.path,
            d.outcome.as_str(),
            d.reason.as_str(),
            d.http.status
        )?;
        writeln!(out, "  {:<18} {}", "", d.message.get(lang))?;
    }
    Ok(())
}

pub fn problems(out: &mut dyn Write, file: &str, ps: &[Problem]) -> io::Result<()> {
    if ps.is_empty() {
        writeln!(out, "{file}: no problems")?;
    }
    for p in ps {
        let sev = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = p.line.map(|l| format!(":{l}")).unwrap_or_default();
        writeln!(out, "{file}{at}: {sev}[{}]: {}", p.code, p.message)?;
        if !p.hint.is_empty() {
            writeln!(out, "  hint: {}", p.hint)?;
        }
    }
    Ok(())
}
