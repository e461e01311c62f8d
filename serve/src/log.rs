//! Operational messages on standard error, one line each (standard output
//! carries only the audit lines). Callers pass what happened and what to do;
//! never a token, a cookie or key material.

use std::fmt::Display;
use std::io::Write;

fn line(level: &str, msg: &dyn Display) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let ts = mfagate::format_rfc3339(now);
    // A failed write to stderr has nowhere else to be reported.
    let _ = writeln!(
        std::io::stderr().lock(),
        "{ts} {level} mfagate-serve: {msg}"
    );
}

pub fn info(msg: impl Display) {
    line("INFO", &msg);
}

pub fn warn(msg: impl Display) {
    line("WARN", &msg);
}

pub fn error(msg: impl Display) {
    line("ERROR", &msg);
}
