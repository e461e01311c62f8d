//! Shared by the integration tests: the conformance vectors grouped by
//! gate, in-process servers, a raw HTTP/1.1 client (so that requests go out
//! byte for byte as written: raw paths, repeated headers), the core's own
//! answer to compare with, and an upstream that records what it receives.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mfagate::conformance::{files, load, Case};
use mfagate::{Decision, Gate, KeySet, Policy};
use mfagate_serve::config::{Checked, Settings};
use mfagate_serve::{Server, Stopper};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const NOW: i64 = 1_767_225_600;
pub const COOKIE: &str = "id_token";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh directory for one test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = test_root().join(format!("mfagate-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Cases that share one gate (the same policy and keys).
pub struct Group {
    pub policy: Value,
    pub keys: String,
    pub cases: Vec<Case>,
}

/// Every vector case that expects a decision, grouped by gate. Cases that
/// say whether the user registered MFA are left out: only the application
/// knows that, never a proxy (the server always passes "unknown").
pub fn groups() -> (Vec<Group>, usize) {
    let mut out: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut skipped = 0;
    for f in files(&repo().join("tests/vectors")).unwrap() {
        let file = load(&f).unwrap();
        let keys = file.keys.to_string();
        for c in file.cases {
            if c.expect.is_none() {
                continue;
            }
            if c.request.mfa_registered.is_some() {
                skipped += 1;
                continue;
            }
            let key = format!("{}|{keys}", c.policy);
            let i = *index.entry(key).or_insert_with(|| {
                out.push(Group {
                    policy: c.policy.clone(),
                    keys: keys.clone(),
                    cases: Vec::new(),
                });
                out.len() - 1
            });
            out[i].cases.push(c);
        }
    }
    (out, skipped)
}

/// The policy spec as the `policy` setting reads it (JSON text, or a name).
pub fn policy_setting(policy: &Value) -> String {
    match policy {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Settings for a test server: the vectors' fixed clock (with --testing),
/// keys from `jwks`, an ephemeral port, no audit lines unless asked.
pub fn settings(policy: &str, jwks: &str) -> Settings {
    let mut s = Settings {
        listen: "127.0.0.1:0".into(),
        policy: policy.into(),
        jwks: jwks.into(),
        session_cookie: Some(COOKIE.into()),
        clock: format!("fixed:{NOW}"),
        ..Settings::default()
    };
    s.audit.enabled = false;
    s.reload.watch_interval = 0.0;
    s.shutdown_grace = 1.0;
    s
}

pub struct Running {
    pub addr: SocketAddr,
    pub stopper: Stopper,
    pub task: tokio::task::JoinHandle<()>,
    /// Dropped with the server: its watchdog then stands down.
    pub watchdog: std::sync::mpsc::Sender<()>,
}

/// How long an in-process server may run before its watchdog ends the test
/// process (a hung server must fail the run, not hold it).
pub const SERVER_WATCHDOG: Duration = Duration::from_secs(600);

pub async fn start(checked: Checked) -> Running {
    let server = Server::bind(checked).await.unwrap();
    let addr = server.local_addr().unwrap();
    let stopper = server.stopper();
    let task = tokio::spawn(server.run());
    let (watchdog, stand_down) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            stand_down.recv_timeout(SERVER_WATCHDOG)
        {
            eprintln!(
                "watchdog: the in-process server on {addr} still runs after {} s: ending the test process",
                SERVER_WATCHDOG.as_secs()
            );
            std::process::exit(70);
        }
    });
    Running {
        addr,
        stopper,
        task,
        watchdog,
    }
}

/// A server for a vector group, its keys written to `dir`.
pub async fn start_group(g: &Group, dir: &Path, n: usize) -> Running {
    let keys = dir.join(format!("keys-{n}.json"));
    std::fs::write(&keys, &g.keys).unwrap();
    let s = settings(&policy_setting(&g.policy), keys.to_str().unwrap());
    start(s.check(true).unwrap()).await
}

/// What the core decides for `case`, with the host the gate will see.
pub fn core_decision(g: &Group, case: &Case, host: Option<&str>) -> Decision {
    let gate = Gate::new(
        Policy::from_spec(&g.policy).unwrap(),
        KeySet::from_json(&g.keys).unwrap(),
    );
    let mut r = case.request.as_request();
    if r.host.is_none() {
        r.host = host;
    }
    gate.evaluate(&r)
}

/// The original request's own headers, as a client sends them: the
/// credential, the session cookie, `ValidateMfa`.
pub fn client_headers(case: &Case) -> Vec<(String, String)> {
    let r = &case.request;
    let mut h = Vec::new();
    if let Some(a) = &r.authorization {
        h.push(("Authorization".into(), a.clone()));
    }
    if let Some(t) = &r.token {
        h.push(("Cookie".into(), format!("{COOKIE}={t}")));
    }
    if let Some(v) = r.validate_mfa {
        h.push(("ValidateMfa".into(), v.to_string()));
    }
    h
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request, written exactly as given, on its own connection.
pub fn send(addr: SocketAddr, method: &str, target: &str, headers: &[(String, String)]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {target} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse(&raw, method == "HEAD")
}

pub fn parse(raw: &[u8], head: bool) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head_text = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    let _ = parts.next();
    let status = parts.next().unwrap().parse().unwrap();
    let reason = parts.next().unwrap_or("").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if head {
        body.clear();
    } else if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        reason,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(i) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
}

/// Compares an answer with the core's refusal: status, every header the
/// decision sends, the body. `None` when they are the same.
pub fn refusal_mismatch(d: &Decision, got: &Resp, with_body: bool) -> Option<String> {
    if got.status != d.http.status {
        return Some(format!(
            "status {} ({}), the core says {} ({})",
            got.status,
            got.text(),
            d.http.status,
            d.reason
        ));
    }
    for (k, v) in d.http.response_headers() {
        let have = got.all(k);
        if have != [v.as_str()] {
            return Some(format!("{k}: got {have:?}, the core says {v:?}"));
        }
    }
    if got.all("www-authenticate").len() > 1 {
        return Some("WWW-Authenticate repeated".into());
    }
    if with_body && got.body != d.http.body.as_bytes() {
        return Some(format!(
            "body {:?}, the core says {:?}",
            got.text(),
            d.http.body
        ));
    }
    None
}

/// Counts and prints like every runner of the project.
#[derive(Default)]
pub struct Tally {
    pub passed: usize,
    pub failed: Vec<String>,
}

impl Tally {
    pub fn check(&mut self, what: String, mismatch: Option<String>) {
        match mismatch {
            None => self.passed += 1,
            Some(m) => self.failed.push(format!("{what}: {m}")),
        }
    }
    pub fn finish(self, name: &str) {
        for f in &self.failed {
            eprintln!("FAILED {f}");
        }
        println!(
            "{name}: {} passed, {} failed",
            self.passed,
            self.failed.len()
        );
        assert!(self.failed.is_empty(), "{} mismatches", self.failed.len());
    }
}

/// An application behind the proxy that records the headers of every
/// request it receives, by the client's `X-Test-Id`.
pub type Headers = Vec<(String, String)>;

#[derive(Clone, Default)]
pub struct Recorder {
    pub seen: Arc<Mutex<HashMap<String, Headers>>>,
}

impl Recorder {
    pub fn start() -> (Recorder, SocketAddr) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let rec = Recorder::default();
        let r = rec.clone();
        std::thread::spawn(move || {
            for s in listener.incoming().flatten() {
                let r = r.clone();
                std::thread::spawn(move || r.serve(s));
            }
        });
        (rec, addr)
    }

    fn serve(&self, mut s: TcpStream) {
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            // One request per loop (keep-alive from the proxy); no bodies.
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let mut lines = head.split("\r\n");
            let request_line = lines.next().unwrap_or("").to_owned();
            let mut headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            headers.push((":request-line".into(), request_line));
            if let Some(id) = headers
                .iter()
                .find(|(k, _)| k == "x-test-id")
                .map(|(_, v)| v.clone())
            {
                self.seen.lock().unwrap().insert(id, headers);
            }
            let body = "upstream ok";
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if s.write_all(resp.as_bytes()).is_err() {
                return;
            }
        }
    }

    pub fn take(&self, id: &str) -> Option<Vec<(String, String)>> {
        self.seen.lock().unwrap().remove(id)
    }
}

pub fn value<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A free port on loopback (for proxies, whose ports are in their config).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where every test's files go: `MFAGATE_SERVE_TEST_ROOT` when set (serve/test.sh
/// sets a fresh one, and afterwards checks that no process is left running
/// in it), else the system's temporary directory.
pub fn test_root() -> PathBuf {
    std::env::var_os("MFAGATE_SERVE_TEST_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// Sends `sig` to every process of the group `pgid`; true when one received it.
fn signal_group(pgid: u32, sig: &str) -> bool {
    std::process::Command::new("kill")
        .args([sig, "--", &format!("-{pgid}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A server or proxy this test started, in its own process group (so that
/// nginx's workers, a Python app's threads and the like go with it), with
/// its working directory in the test's directory (what serve/test.sh looks
/// for afterwards), and a watchdog: a separate process that kills the whole
/// group after `limit` if the test never stops it (a hung or killed test).
/// Stopping it (or dropping it) sends SIGTERM to the group, waits for every
/// member to be gone, then SIGKILLs what is left.
pub struct Supervised {
    pub child: std::process::Child,
    pub name: String,
    watchdog: Option<std::process::Child>,
    stopped: bool,
}

impl Supervised {
    pub fn spawn(mut cmd: std::process::Command, name: &str, dir: &Path, limit: Duration) -> Self {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0).current_dir(dir);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pgid = child.id();
        // SIGTERM stands it down: the shell kills and reaps its sleep first,
        // so no orphan is left (a container's init may never reap one).
        let secs = limit.as_secs().max(1);
        let watchdog = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "trap 'kill $s 2>/dev/null; wait $s 2>/dev/null; exit 0' TERM; \
                 sleep {secs} & s=$!; wait $s; \
                 kill -KILL -- -{pgid} 2>/dev/null && echo 'watchdog: {name} killed after {secs} s' >&2"
            ))
            .process_group(0)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the watchdog of {name}: {e}"));
        Supervised {
            child,
            name: name.to_owned(),
            watchdog: Some(watchdog),
            stopped: false,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Stops the group; an error names what was still running after SIGKILL.
    pub fn stop(&mut self) -> Result<(), String> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let pgid = self.child.id();
        signal_group(pgid, "-TERM");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut reaped = false;
        // The leader is reaped first (a zombie still counts in its group),
        // then the group must empty: nginx's workers leave after their master.
        while std::time::Instant::now() < deadline {
            if !reaped {
                reaped = matches!(self.child.try_wait(), Ok(Some(_)));
            }
            if reaped && !signal_group(pgid, "-0") {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if !reaped || signal_group(pgid, "-0") {
            signal_group(pgid, "-KILL");
            let _ = self.child.wait();
            std::thread::sleep(Duration::from_millis(100));
        }
        let left = signal_group(pgid, "-0");
        if let Some(mut w) = self.watchdog.take() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &w.id().to_string()])
                .status();
            let until = std::time::Instant::now() + Duration::from_secs(5);
            while !matches!(w.try_wait(), Ok(Some(_))) {
                if std::time::Instant::now() > until {
                    signal_group(w.id(), "-KILL");
                    let _ = w.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        if left {
            Err(format!(
                "{}: processes of group {pgid} survived SIGKILL",
                self.name
            ))
        } else {
            Ok(())
        }
    }

    /// Stops it and fails the test if anything of it is left.
    pub fn finish(mut self) {
        let r = self.stop();
        r.unwrap();
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("{e}");
        }
    }
}

/// A value that travels in an HTTP/1.1 header field as it is: no control
/// character, no DEL (hyper refuses them with its own 400; a CR or LF would
/// end the line; a tab at either end is stripped as whitespace, and no
/// request line carries one). Vectors with such a path or host are decided
/// through gRPC, whose strings carry them, and not through header-based
/// protocols or proxies.
pub fn header_sendable(v: &str) -> bool {
    !v.bytes().any(|b| b < 0x20 || b == 0x7f)
}

/// A method travels in a header (`X-Forwarded-Method`) with its surrounding
/// whitespace stripped, so `"GET "` arrives as `GET`: such vectors go
/// through gRPC too.
pub fn case_header_sendable(c: &Case) -> bool {
    header_sendable(&c.request.path)
        && c.request.host.as_deref().is_none_or(header_sendable)
        && method_sendable(&c.request.method)
}

fn method_sendable(m: &str) -> bool {
    header_sendable(m) && m.trim() == m
}

/// The forward endpoint refuses an `X-Forwarded-Host` list (`a, b`: a proxy
/// appended to a client's value) with 500 `forwarded_header_invalid`, where
/// the core, given the list as a host, decides under every host in it.
/// `Some(mismatch)` for such a case, `None` for any other.
pub fn forward_host_list(d: &Decision, host: Option<&str>, got: &Resp) -> Option<Option<String>> {
    if !host.is_some_and(|h| h.contains(',')) {
        return None;
    }
    Some(
        (d.is_allowed() || got.status != 500 || !got.text().contains("forwarded_header_invalid"))
            .then(|| {
                format!(
                    "a host list: {} {}, the core says {}",
                    got.status,
                    got.text(),
                    d.reason
                )
            }),
    )
}
