//! Settings: the TOML file, the command-line overrides, and the checks that
//! refuse a configuration the server could not run safely. Every default
//! is here, and docs/serve.md lists them all.

use crate::clock::Clock;
use mfagate::{CacheOptions, RefreshOptions};
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration the server refuses to start with: what is wrong and what
/// to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
    pub hint: String,
}

impl ConfigError {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, ". Hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// The settings file, as written (`mfagate-serve --config FILE`). Unknown
/// keys are refused, so a misspelt setting never silently keeps a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: String,
    /// The policy: a built-in name, the JSON text of a spec, or a policy
    /// file (reloaded on SIGHUP and when it changes).
    pub policy: String,
    /// The JWKS source: an `https://` URL (a JWK Set, an OpenID
    /// configuration or an Entra authority, kept fresh by the core's
    /// refresher; `http://` only on loopback), or the path of a JWK Set file.
    pub jwks: String,
    /// The cookie that carries a page's session token (an ID token), if
    /// pages are gated; unset, cookies are not read.
    pub session_cookie: Option<String>,
    /// `system`, or `fixed:<unix seconds>` (testing only: refused without
    /// `--testing`).
    pub clock: String,
    /// Runtime threads (0: one per core).
    pub worker_threads: usize,
    /// Seconds that open requests may take to finish after SIGTERM.
    pub shutdown_grace: f64,
    pub endpoints: Endpoints,
    pub limits: Limits,
    pub jwks_refresh: JwksRefresh,
    pub audit: AuditSettings,
    pub reload: ReloadSettings,
    pub tls: Option<TlsFiles>,
    pub token_cache: TokenCacheSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:9180".into(),
            policy: "partner-center".into(),
            jwks: String::new(),
            session_cookie: None,
            clock: "system".into(),
            worker_threads: 0,
            shutdown_grace: 10.0,
            endpoints: Endpoints::default(),
            limits: Limits::default(),
            jwks_refresh: JwksRefresh::default(),
            audit: AuditSettings::default(),
            reload: ReloadSettings::default(),
            tls: None,
            token_cache: TokenCacheSettings::default(),
        }
    }
}

/// Where each protocol is answered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Endpoints {
    /// nginx `auth_request` (X-Original-URI, X-Original-Method, X-Original-Host).
    pub nginx: String,
    /// Where nginx's `error_page` location fetches the exact refusal.
    pub nginx_refusal: String,
    /// Caddy `forward_auth`, Traefik `ForwardAuth` (X-Forwarded-Method,
    /// X-Forwarded-Uri, X-Forwarded-Host).
    pub forward: String,
    /// Envoy's HTTP ext_authz service: its `path_prefix`. Empty: off.
    pub envoy_prefix: String,
    /// Envoy's gRPC `envoy.service.auth.v3.Authorization/Check`.
    pub grpc: bool,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            nginx: "/auth/nginx".into(),
            nginx_refusal: "/auth/nginx/refusal".into(),
            forward: "/auth/forward".into(),
            envoy_prefix: "/envoy".into(),
            grpc: true,
        }
    }
}

/// The paths the server answers itself.
pub const HEALTHZ: &str = "/healthz";
pub const READYZ: &str = "/readyz";
pub const METRICS: &str = "/metrics";
/// The gRPC method of Envoy's ext_authz service.
pub const GRPC_CHECK: &str = "/envoy.service.auth.v3.Authorization/Check";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest request head (request line and headers), in bytes. A
    /// larger one is answered 431 and never decided.
    pub max_header_bytes: usize,
    /// The most header lines a request may have.
    pub max_headers: usize,
    /// The largest body an auth request may declare (none is read). Envoy
    /// with `with_request_body` sends one; beyond this it is answered 413.
    pub max_body_bytes: u64,
    /// Seconds a client may take to send a request head.
    pub header_read_timeout: f64,
    /// Open connections at most; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            max_body_bytes: 64 * 1024,
            header_read_timeout: 10.0,
            max_connections: 4096,
        }
    }
}

/// The core refresher's options (docs/bindings.md, "JWKS caches").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwksRefresh {
    pub ttl: f64,
    pub min_refresh_interval: f64,
    pub timeout: f64,
    pub max_bytes: usize,
    pub max_keys: usize,
}

impl Default for JwksRefresh {
    fn default() -> Self {
        let d = RefreshOptions::default();
        JwksRefresh {
            ttl: d.ttl,
            min_refresh_interval: d.min_refresh_interval,
            timeout: d.timeout,
            max_bytes: d.max_bytes,
            max_keys: d.max_keys,
        }
    }
}

impl JwksRefresh {
    pub fn options(&self) -> RefreshOptions {
        RefreshOptions {
            ttl: self.ttl,
            min_refresh_interval: self.min_refresh_interval,
            timeout: self.timeout,
            max_bytes: self.max_bytes,
            max_keys: self.max_keys,
        }
    }
}

/// The core's verified-token cache (opt-in; docs/serve.md, "Settings").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenCacheSettings {
    pub enabled: bool,
    pub max_entries: usize,
    pub max_bytes: usize,
}

impl Default for TokenCacheSettings {
    fn default() -> Self {
        let d = CacheOptions::default();
        TokenCacheSettings {
            enabled: false,
            max_entries: d.max_entries,
            max_bytes: d.max_bytes,
        }
    }
}

impl TokenCacheSettings {
    pub fn options(&self) -> CacheOptions {
        CacheOptions {
            max_entries: self.max_entries,
            max_bytes: self.max_bytes,
        }
    }
}

/// One JSON line per decision on standard output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSettings {
    pub enabled: bool,
    /// The share of allowed requests logged, 0 to 1.
    pub sample_allow: f64,
    /// The share of refused requests logged, 0 to 1.
    pub sample_refusal: f64,
    /// Lines waiting to be written at most; beyond, lines are dropped and
    /// counted (`mfagate_audit_dropped_total`), so a blocked standard
    /// output never stalls decisions.
    pub buffer: usize,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            enabled: true,
            sample_allow: 1.0,
            sample_refusal: 1.0,
            buffer: 16 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReloadSettings {
    /// Seconds between checks of the policy and JWKS files for changes
    /// (0: only on SIGHUP).
    pub watch_interval: f64,
}

impl Default for ReloadSettings {
    fn default() -> Self {
        ReloadSettings {
            watch_interval: 2.0,
        }
    }
}

/// Serve TLS (rustls) with this certificate chain and key, both PEM.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where the keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Kept fresh by the core's refresher.
    Url(String),
    /// A JWK Set file, reloaded like the policy.
    File(PathBuf),
}

/// Settings checked and resolved: what the server runs with.
#[derive(Debug, Clone)]
pub struct Checked {
    pub settings: Settings,
    pub listen: SocketAddr,
    pub jwks: JwksSource,
    pub clock: Clock,
    /// The policy file to watch, when the policy is one.
    pub policy_file: Option<PathBuf>,
}

fn seconds(name: &str, v: f64, zero_ok: bool) -> Result<Duration, ConfigError> {
    if v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0)) && v < 1e9 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(ConfigError::new(
            format!("{name} is {v}: it must be a positive number of seconds"),
            "write it as a number, e.g. 10 or 0.5",
        ))
    }
}

fn fraction(name: &str, v: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(ConfigError::new(
            format!("{name} is {v}: it must be between 0 and 1"),
            "1 logs every decision, 0.01 one in a hundred, 0 none",
        ))
    }
}

/// A policy spec names a file by the core's own rule
/// (`Policy::from_spec_str`): not a built-in name, not JSON text, and
/// ending in `.toml` or `.json` or holding a path separator.
pub fn policy_file_of(spec: &str) -> Option<PathBuf> {
    let s = spec.trim();
    if mfagate::BUILTIN_NAMES.contains(&s) || s.starts_with('{') {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    (lower.ends_with(".toml") || lower.ends_with(".json") || s.contains(['/', '\\']))
        .then(|| PathBuf::from(s))
}

fn endpoint(name: &str, p: &str) -> Result<(), ConfigError> {
    if !p.starts_with('/') || p.contains(['?', '#', ' ']) {
        return Err(ConfigError::new(
            format!("endpoints.{name} is {p:?}: it must be a path starting with /"),
            "for example \"/auth/nginx\"",
        ));
    }
    Ok(())
}

/// True when `path` is `prefix` or below it (`prefix/...`).
pub fn under(path: &str, prefix: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    path == p
        || path
            .strip_prefix(p)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Endpoints {
    fn check(&self) -> Result<(), ConfigError> {
        endpoint("nginx", &self.nginx)?;
        endpoint("nginx_refusal", &self.nginx_refusal)?;
        endpoint("forward", &self.forward)?;
        let fixed = [
            ("nginx", self.nginx.as_str()),
            ("nginx_refusal", self.nginx_refusal.as_str()),
            ("forward", self.forward.as_str()),
            ("/healthz", HEALTHZ),
            ("/readyz", READYZ),
            ("/metrics", METRICS),
            ("the gRPC method", GRPC_CHECK),
        ];
        for (i, (a, pa)) in fixed.iter().enumerate() {
            for (b, pb) in &fixed[i + 1..] {
                if pa == pb {
                    return Err(ConfigError::new(
                        format!("endpoints {a} and {b} are both {pa:?}"),
                        "give every endpoint its own path",
                    ));
                }
            }
        }
        if self.envoy_prefix.is_empty() {
            return Ok(());
        }
        endpoint("envoy_prefix", &self.envoy_prefix)?;
        // Envoy appends the client's own path to this prefix: if an
        // endpoint of the server lay below it, a client could ask for
        // `/healthz` and have Envoy read the 200 of the health check as an
        // allow. So nothing else may live under the prefix.
        if self.envoy_prefix.trim_end_matches('/').is_empty() {
            return Err(ConfigError::new(
                "endpoints.envoy_prefix is \"/\": Envoy would send every client path to the server's own endpoints",
                "use a prefix of its own, such as \"/envoy\" (set path_prefix: /envoy in Envoy), or \"\" to switch the HTTP ext_authz endpoint off",
            ));
        }
        for (name, p) in fixed {
            if under(p, &self.envoy_prefix) {
                return Err(ConfigError::new(
                    format!(
                        "endpoint {name} ({p}) lies under endpoints.envoy_prefix ({}): a client could reach it through Envoy",
                        self.envoy_prefix
                    ),
                    "give Envoy a prefix no other endpoint starts with",
                ));
            }
        }
        Ok(())
    }
}

impl Settings {
    /// Reads a settings file.
    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::new(
                format!("cannot read the settings file {}: {e}", path.display()),
                "pass the path of a TOML file with --config",
            )
        })?;
        Settings::from_toml(&text)
            .map_err(|e| ConfigError::new(format!("{}: {}", path.display(), e.message), e.hint))
    }

    pub fn from_toml(text: &str) -> Result<Settings, ConfigError> {
        toml::from_str(text).map_err(|e| {
            ConfigError::new(
                e.to_string().trim().replace('\n', " "),
                "the settings are listed in docs/serve.md",
            )
        })
    }

    /// Checks every setting; `testing` allows the fixed clock.
    pub fn check(self, testing: bool) -> Result<Checked, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError::new(
                format!("listen is {:?}: not an address and port", self.listen),
                "for example \"127.0.0.1:9180\" or \"[::1]:9180\"",
            )
        })?;
        let jwks = self.jwks.trim();
        if jwks.is_empty() {
            return Err(ConfigError::new(
                "no JWKS source: set jwks",
                "an https URL (your tenant's jwks_uri, its OpenID configuration, or https://login.microsoftonline.com/<tenant>/v2.0), or the path of a JWK Set file",
            ));
        }
        let lower = jwks.to_ascii_lowercase();
        let jwks = if lower.starts_with("https://") || lower.starts_with("http://") {
            // The core's own URL rules (https, loopback http, no
            // credentials), checked now rather than at the first fetch.
            mfagate::Refresher::new(jwks, self.jwks_refresh.options())
                .map_err(|e| ConfigError::new(e.message, e.hint))?;
            JwksSource::Url(jwks.to_owned())
        } else {
            JwksSource::File(PathBuf::from(jwks))
        };
        let clock = Clock::parse(&self.clock, testing)?;
        seconds("shutdown_grace", self.shutdown_grace, true)?;
        seconds(
            "limits.header_read_timeout",
            self.limits.header_read_timeout,
            false,
        )?;
        seconds("reload.watch_interval", self.reload.watch_interval, true)?;
        if self.limits.max_header_bytes < 8192 {
            return Err(ConfigError::new(
                format!(
                    "limits.max_header_bytes is {}: at least 8192 bytes",
                    self.limits.max_header_bytes
                ),
                "Entra tokens with many groups reach 8 KB; the default is 32768",
            ));
        }
        if self.limits.max_headers == 0 || self.limits.max_connections == 0 {
            return Err(ConfigError::new(
                "limits.max_headers and limits.max_connections must be positive",
                "the defaults are 100 and 4096",
            ));
        }
        fraction("audit.sample_allow", self.audit.sample_allow)?;
        fraction("audit.sample_refusal", self.audit.sample_refusal)?;
        if self.audit.buffer == 0 {
            return Err(ConfigError::new(
                "audit.buffer must be positive",
                "the default is 16384 lines",
            ));
        }
        if let Some(c) = &self.session_cookie {
            if c.is_empty()
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
            {
                return Err(ConfigError::new(
                    format!("session_cookie is {c:?}: not a cookie name"),
                    "a cookie name is a token (RFC 6265 §4.1.1), e.g. \"id_token\"",
                ));
            }
        }
        if self.token_cache.enabled {
            self.token_cache
                .options()
                .check()
                .map_err(|e| ConfigError::new(format!("token_cache: {}", e.message), e.hint))?;
        }
        self.endpoints.check()?;
        let policy_file = policy_file_of(&self.policy);
        Ok(Checked {
            listen,
            jwks,
            clock,
            policy_file,
            settings: self,
        })
    }
}

impl Checked {
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs_f64(self.settings.shutdown_grace)
    }
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.settings.limits.header_read_timeout)
    }
    pub fn watch_interval(&self) -> Option<Duration> {
        let s = self.settings.reload.watch_interval;
        (s > 0.0).then(|| Duration::from_secs_f64(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(extra: &str) -> Result<Checked, ConfigError> {
        Settings::from_toml(&format!("jwks = \"keys.json\"\n{extra}"))?.check(false)
    }

    #[test]
    fn defaults_and_unknown_keys() {
        let c = with("").unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9180");
        assert_eq!(c.jwks, JwksSource::File("keys.json".into()));
        assert_eq!(c.settings.endpoints.nginx, "/auth/nginx");
        let e = with("polcy = \"x\"").unwrap_err();
        assert!(e.message.contains("polcy"), "{e}");
    }

    #[test]
    fn the_fixed_clock_needs_testing() {
        let e = with("clock = \"fixed:1767225600\"").unwrap_err();
        assert!(e.to_string().contains("--testing"), "{e}");
        let c = Settings::from_toml("jwks = \"k.json\"\nclock = \"fixed:1767225600\"")
            .unwrap()
            .check(true)
            .unwrap();
        assert_eq!(c.clock, Clock::Fixed(1_767_225_600));
    }

    #[test]
    fn envoy_prefix_cannot_cover_other_endpoints() {
        assert!(with("[endpoints]\nenvoy_prefix = \"/\"").is_err());
        assert!(with("[endpoints]\nenvoy_prefix = \"/auth\"").is_err());
        assert!(with("[endpoints]\nenvoy_prefix = \"/healthz\"").is_err());
        assert!(with("[endpoints]\nenvoy_prefix = \"/ext\"").is_ok());
        assert!(with("[endpoints]\nenvoy_prefix = \"\"").is_ok());
        assert!(with("[endpoints]\nforward = \"/auth/nginx\"").is_err());
    }

    #[test]
    fn jwks_urls_follow_the_core_rules() {
        let e = Settings::from_toml("jwks = \"http://example.com/keys\"")
            .unwrap()
            .check(false)
            .unwrap_err();
        assert!(e.message.contains("plain http"), "{e}");
        let c = Settings::from_toml("jwks = \"http://127.0.0.1:1/keys\"")
            .unwrap()
            .check(false)
            .unwrap();
        assert!(matches!(c.jwks, JwksSource::Url(_)));
        assert!(
            Settings::default().check(false).is_err(),
            "jwks is required"
        );
    }

    #[test]
    fn paths_under_a_prefix() {
        assert!(under("/envoy/x", "/envoy"));
        assert!(under("/envoy", "/envoy/"));
        assert!(!under("/envoyx", "/envoy"));
        assert_eq!(policy_file_of("partner-center-2026"), None);
        assert_eq!(policy_file_of("{\"builtin\":\"x\"}"), None);
        assert_eq!(policy_file_of("p.toml"), Some("p.toml".into()));
    }
}
