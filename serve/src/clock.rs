//! Clocks: the wall clock decisions are made at (or a fixed one, for
//! replaying the conformance vectors), and the monotonic milliseconds the
//! core's JWKS refresher counts in.

use crate::config::ConfigError;
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    /// TESTING ONLY: every decision at this Unix second. Signed tokens of
    /// the conformance vectors are valid at `now` = 1767225600 only, so a
    /// replay needs it; a production server with it would accept expired
    /// tokens forever, hence `--testing`.
    Fixed(i64),
}

impl Clock {
    pub fn parse(s: &str, testing: bool) -> Result<Clock, ConfigError> {
        let s = s.trim();
        if s == "system" {
            return Ok(Clock::System);
        }
        let Some(n) = s.strip_prefix("fixed:") else {
            return Err(ConfigError::new(
                format!("clock is {s:?}"),
                "use \"system\" (the default); \"fixed:<unix seconds>\" is for tests, with --testing",
            ));
        };
        let n: i64 = n
            .trim()
            .parse()
            .ok()
            .filter(|n| (0..=mfagate::NOW_MAX).contains(n))
            .ok_or_else(|| {
                ConfigError::new(
                    format!("clock is {s:?}: the fixed time must be whole Unix seconds"),
                    "for example \"fixed:1767225600\"",
                )
            })?;
        if !testing {
            return Err(ConfigError::new(
                format!("clock is {s:?}, a fixed clock: it accepts tokens that expired long ago, so it is for tests only"),
                "start with --testing to replay test vectors, or use clock = \"system\"",
            ));
        }
        Ok(Clock::Fixed(n))
    }

    /// Unix seconds to decide at.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => mfagate::system_now(),
            Clock::Fixed(n) => *n,
        }
    }
}

/// Milliseconds since the process started, never going back: the
/// refresher's clock.
pub fn mono_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}
