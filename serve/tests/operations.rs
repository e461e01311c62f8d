//! Operating the server: the JWKS refresher driven over HTTP (503 and not
//! ready until the first good key set, redirects not followed, oversize
//! refused, an unknown kid refetched), metrics, audit lines, policy reload
//! on SIGHUP and on a file change (a bad policy refused, the old one kept),
//! graceful shutdown with a request in flight, and settings refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mfagate-serve");

/// A JWKS host: answers request n (from 0) with `answer(n)`: (status,
/// extra headers, body, delay).
type Answer = dyn Fn(usize) -> (u16, String, Vec<u8>, Duration) + Send + Sync;

fn jwks_host(answer: Arc<Answer>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let n = h.fetch_add(1, Ordering::SeqCst);
            let answer = Arc::clone(&answer);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let (status, extra, body, delay) = answer(n);
                std::thread::sleep(delay);
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(&body);
            });
        }
    });
    (addr, hits)
}

fn keys_file(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/keys").join(name)).unwrap()
}

fn case(file: &str, id: &str) -> (serde_json::Value, mfagate::conformance::Case) {
    let f = mfagate::conformance::load(&repo().join("tests/vectors").join(file)).unwrap();
    let c = f.cases.into_iter().find(|c| c.id == id).unwrap();
    (f.keys, c)
}

fn forward(addr: SocketAddr, c: &mfagate::conformance::Case) -> Resp {
    let mut h = client_headers(c);
    h.push(("X-Forwarded-Uri".into(), c.request.path.clone()));
    h.push(("X-Forwarded-Method".into(), c.request.method.clone()));
    send(addr, "GET", "/auth/forward", &h)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn jwks_url_not_ready_until_a_good_key_set() {
    let (_, c) = case("api.json", "api-app-user-pwd-only");
    // 0: a redirect (not followed), 1: a document over the limit, then the keys.
    let (host, hits) = jwks_host(Arc::new(|n| match n {
        0 => (
            302,
            "Location: http://127.0.0.1:9/keys\r\n".into(),
            Vec::new(),
            Duration::ZERO,
        ),
        1 => (200, String::new(), vec![b' '; 300_000], Duration::ZERO),
        _ => (200, String::new(), keys_file("jwks.json"), Duration::ZERO),
    }));
    let rt = runtime();
    let mut s = settings(&policy_setting(&c.policy), &format!("http://{host}/keys"));
    s.jwks_refresh.min_refresh_interval = 0.0;
    let running = rt.block_on(start(s.check(true).unwrap()));
    let addr = running.addr;

    let first = forward(addr, &c);
    assert_eq!(first.status, 503, "{}", first.text());
    assert!(
        first.text().contains("keys_unavailable"),
        "{}",
        first.text()
    );
    assert!(first.header("retry-after").is_some());
    assert_eq!(send(addr, "GET", "/readyz", &[]).status, 503);
    assert_eq!(send(addr, "GET", "/healthz", &[]).status, 200);

    wait_until("a good key set", || {
        send(addr, "GET", "/readyz", &[]).status == 200
    });
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "redirect, oversize, keys: nothing followed"
    );
    let d = forward(addr, &c);
    assert_eq!(d.status, 401, "{}", d.text());
    assert!(d.text().contains("mfa_required"));
    let m = send(addr, "GET", "/metrics", &[]).text();
    for line in [
        "mfagate_jwks_fetches_total 3",
        "mfagate_jwks_fetch_failures_total 2",
        "mfagate_ready 1",
        "mfagate_decisions_total{protocol=\"forward\",outcome=\"deny\",reason=\"keys_unavailable\"} 1",
        "mfagate_decisions_total{protocol=\"forward\",outcome=\"step_up\",reason=\"mfa_required\"} 1",
        "mfagate_decision_seconds_count 2",
    ] {
        assert!(m.contains(line), "{line} not in\n{m}");
    }
    assert!(!m.contains("mfagate_key_set_age_seconds NaN"), "{m}");
    running.stopper.stop();
    rt.block_on(running.task).unwrap();
}

#[test]
fn metrics_count_rejections_and_the_histogram() {
    let rt = runtime();
    let s = settings(
        "partner-center-2026",
        repo().join("tests/keys/jwks.json").to_str().unwrap(),
    );
    let running = rt.block_on(start(s.check(true).unwrap()));
    let addr = running.addr;
    // The forward endpoint without X-Forwarded-Uri: a proxy misconfiguration.
    let r = send(
        addr,
        "GET",
        "/auth/forward",
        &[("X-Forwarded-Method".into(), "GET".into())],
    );
    assert_eq!(r.status, 500);
    assert!(
        r.text().contains("forwarded_header_missing"),
        "{}",
        r.text()
    );
    // The nginx endpoint never reads X-Forwarded-*.
    let r = send(
        addr,
        "GET",
        "/auth/nginx",
        &[("X-Forwarded-Uri".into(), "/v1/customers".into())],
    );
    assert_eq!(r.status, 403);
    let rendered = send(
        addr,
        "GET",
        "/auth/nginx/refusal",
        &[(
            "X-Mfagate-Answer".into(),
            r.header("x-mfagate-answer").unwrap().into(),
        )],
    );
    assert_eq!(rendered.status, 500, "{}", rendered.text());
    // The refusal location without an answer, and with one claiming 200.
    assert_eq!(send(addr, "GET", "/auth/nginx/refusal", &[]).status, 500);
    use base64::Engine;
    let fake = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"status":200,"status_text":"OK","headers":[],"body":""}"#);
    assert_eq!(
        send(
            addr,
            "GET",
            "/auth/nginx/refusal",
            &[("X-Mfagate-Answer".into(), fake)]
        )
        .status,
        500
    );
    // A body the auth request should not have.
    let r = send(
        addr,
        "POST",
        "/auth/forward",
        &[("Content-Length".into(), "100000".into())],
    );
    assert_eq!(r.status, 413);
    // Not an endpoint.
    assert_eq!(send(addr, "GET", "/envoyx", &[]).status, 404);
    // Request heads over the limits are never decided.
    let huge = vec![("X-Big".to_owned(), "a".repeat(40_000))];
    assert_eq!(send(addr, "GET", "/auth/forward", &huge).status, 431);
    let many: Vec<(String, String)> = (0..120)
        .map(|i| (format!("X-H{i}"), "1".to_owned()))
        .collect();
    assert_eq!(send(addr, "GET", "/auth/forward", &many).status, 431);
    let m = send(addr, "GET", "/metrics", &[]).text();
    for line in [
        "mfagate_rejected_total{protocol=\"forward\",error=\"forwarded_header_missing\"} 1",
        "mfagate_rejected_total{protocol=\"nginx\",error=\"forwarded_header_missing\"} 1",
        "mfagate_rejected_total{protocol=\"nginx\",error=\"nginx_answer_missing\"} 2",
        "mfagate_rejected_total{protocol=\"forward\",error=\"body_too_large\"} 1",
        "# TYPE mfagate_decision_seconds histogram",
        "mfagate_key_set_age_seconds ",
    ] {
        assert!(m.contains(line), "{line} not in\n{m}");
    }
    running.stopper.stop();
    rt.block_on(running.task).unwrap();
}

/// The binary, with its standard error collected.
struct Gate {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl Gate {
    fn start(config: &std::path::Path, extra: &[&str]) -> Gate {
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(config)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (e, o) = (Arc::clone(&stderr), Arc::clone(&stdout));
        let err = child.stderr.take().unwrap();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                e.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                o.lock().unwrap().push(line);
            }
        });
        let mut addr = None;
        wait_until("listening", || {
            let text = stderr.lock().unwrap().clone();
            addr = text
                .lines()
                .find_map(|l| l.split("listening on ").nth(1))
                .and_then(|a| a.trim().parse().ok());
            addr.is_some()
        });
        Gate {
            child,
            addr: addr.unwrap(),
            stderr,
            stdout,
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_of(addr: SocketAddr, path: &str) -> u16 {
    send(
        addr,
        "GET",
        "/auth/forward",
        &[
            ("X-Forwarded-Uri".into(), path.into()),
            ("X-Forwarded-Method".into(), "GET".into()),
        ],
    )
    .status
}

#[test]
fn policy_reload_on_sighup_and_on_change() {
    let dir = temp_dir("reload");
    let policy = dir.join("policy.toml");
    let closed = "extends = \"partner-center-2026\"\nname = \"closed\"\n";
    let open = "extends = \"partner-center-2026\"\nname = \"open\"\n[routes.status]\npaths = [\"/status\"]\npublic = true\n";
    let broken = "extends = \"partner-center-2026\"\n[routes.status]\npaths = [\"/status\"]\npublic = \"yes\"\n";
    std::fs::write(&policy, closed).unwrap();
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\npolicy = {:?}\njwks = {:?}\n[reload]\nwatch_interval = 0.2\n[audit]\nenabled = false\n",
            policy.display().to_string(),
            repo().join("tests/keys/jwks.json").display().to_string()
        ),
    )
    .unwrap();
    let gate = Gate::start(&config, &[]);
    let addr = gate.addr;
    assert_ne!(status_of(addr, "/status"), 200);

    // SIGHUP: the new policy, and no request dropped while it loads.
    std::fs::write(&policy, open).unwrap();
    let load = std::thread::spawn(move || {
        (0..200)
            .map(|_| status_of(addr, "/v1/customers"))
            .collect::<Vec<_>>()
    });
    gate.signal("HUP");
    wait_until("the open policy", || status_of(addr, "/status") == 200);
    assert!(
        load.join().unwrap().iter().all(|s| *s == 401),
        "every request got a decision"
    );

    // A broken policy is refused and the old one stays.
    std::fs::write(&policy, broken).unwrap();
    wait_until("the refusal", || {
        gate.stderr().contains("new policy refused")
    });
    assert_eq!(status_of(addr, "/status"), 200, "the open policy stays");
    gate.signal("HUP");
    wait_until("the second refusal", || {
        gate.stderr().matches("new policy refused").count() >= 2
    });
    let err = gate.stderr();
    assert!(
        err.contains("policy_invalid") || err.contains("policy_syntax"),
        "{err}"
    );
    let m = send(addr, "GET", "/metrics", &[]).text();
    assert!(m.contains("mfagate_policy_reload_failures_total 2"), "{m}");

    // A change of the file alone.
    std::fs::write(&policy, closed).unwrap();
    wait_until("the closed policy", || status_of(addr, "/status") != 200);
    assert!(gate
        .stderr()
        .contains("policy reloaded (the file changed): closed"));
}

#[test]
fn graceful_shutdown_lets_a_request_in_flight_finish() {
    // An unknown kid makes the request wait for a refetch, which the JWKS
    // host answers slowly: SIGTERM arrives while it waits.
    let (keys, c) = case("tokens.json", "token-unknown-kid");
    let _ = keys;
    let (host, _) = jwks_host(Arc::new(|n| match n {
        0 => (200, String::new(), keys_file("jwks.json"), Duration::ZERO),
        _ => (
            200,
            String::new(),
            keys_file("jwks-with-rotated.json"),
            Duration::from_millis(1500),
        ),
    }));
    let dir = temp_dir("shutdown");
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\npolicy = {:?}\njwks = \"http://{host}/keys\"\nclock = \"fixed:{NOW}\"\nshutdown_grace = 5\n[jwks_refresh]\nmin_refresh_interval = 0\n[audit]\nenabled = false\n",
            policy_setting(&c.policy)
        ),
    )
    .unwrap();
    let mut gate = Gate::start(&config, &["--testing"]);
    let addr = gate.addr;
    wait_until("ready", || send(addr, "GET", "/readyz", &[]).status == 200);
    let c2 = c.clone();
    let in_flight = std::thread::spawn(move || forward(addr, &c2));
    std::thread::sleep(Duration::from_millis(400));
    gate.signal("TERM");
    let r = in_flight.join().unwrap();
    assert_ne!(r.status, 0);
    assert!(
        !r.text().contains("key_not_found"),
        "decided again with the new keys: {}",
        r.text()
    );
    let status = gate.child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", gate.stderr());
    assert!(
        TcpStream::connect(addr).is_err(),
        "no new connections after shutdown"
    );
    let err = gate.stderr();
    assert!(
        err.contains("SIGTERM") && err.contains("every open request finished"),
        "{err}"
    );
}

#[test]
fn audit_lines_carry_no_credentials_and_follow_sampling() {
    let dir = temp_dir("audit");
    let (_, c) = case("api.json", "api-app-user-pwd-only");
    let (_, allowed) = case("api.json", "api-seed-sample-mfa");
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\npolicy = {:?}\njwks = {:?}\nclock = \"fixed:{NOW}\"\n[audit]\nsample_allow = 0\n",
            policy_setting(&allowed.policy),
            repo().join("tests/keys/jwks.json").display().to_string()
        ),
    )
    .unwrap();
    let gate = Gate::start(&config, &["--testing"]);
    let mut c = c.clone();
    c.request.path = "/v1/customers?secret=s3cr3t".into();
    for _ in 0..3 {
        assert_eq!(forward(gate.addr, &c).status, 401);
    }
    // An allow: not sampled (sample_allow = 0).
    assert_eq!(forward(gate.addr, &allowed).status, 200);
    wait_until("three audit lines", || {
        gate.stdout.lock().unwrap().len() >= 3
    });
    std::thread::sleep(Duration::from_millis(200));
    let lines = gate.stdout.lock().unwrap().clone();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let token = c.request.authorization.clone().unwrap();
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["reason"], "mfa_required");
        assert_eq!(v["path"], "/v1/customers");
        assert_eq!(v["protocol"], "forward");
        assert!(!l.contains(&token[7..]) && !l.contains("s3cr3t"), "{l}");
    }
}

#[test]
fn serves_tls_with_rustls() {
    let dir = temp_dir("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var_os("MFAGATE_PROXY_TESTS").is_none(),
            "openssl is needed to make a test certificate"
        );
        println!("openssl not installed: skipped");
        return;
    }
    let mut s = settings(
        "partner-center",
        repo().join("tests/keys/jwks.json").to_str().unwrap(),
    );
    s.tls = Some(mfagate_serve::config::TlsFiles {
        cert: cert.clone(),
        key,
    });
    let rt = runtime();
    let running = rt.block_on(start(s.check(true).unwrap()));
    for proto in ["--http1.1", "--http2"] {
        let out = Command::new("curl")
            .args([
                "-sS",
                proto,
                "-o",
                "-",
                "-w",
                " %{http_version}",
                "--cacert",
            ])
            .arg(&cert)
            .arg(format!("https://127.0.0.1:{}/healthz", running.addr.port()))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("ok"),
            "{proto}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Plain HTTP on the TLS port gets no answer.
    let mut plain = TcpStream::connect(running.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = plain.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("200"), "{buf:?}");
    running.stopper.stop();
    rt.block_on(running.task).unwrap();
}

#[test]
fn settings_refused_with_a_reason() {
    let dir = temp_dir("settings");
    let config = dir.join("serve.toml");
    let jwks = repo().join("tests/keys/jwks.json").display().to_string();
    for (text, flag, want) in [
        (
            format!("jwks = {jwks:?}\nclock = \"fixed:{NOW}\"\n"),
            None,
            "--testing",
        ),
        (format!("jwks = {jwks:?}\npolcy = \"x\"\n"), None, "polcy"),
        (
            format!("jwks = {jwks:?}\npolicy = \"partner-center-2099\"\n"),
            Some("--check"),
            "policy_unknown_builtin",
        ),
        (
            "jwks = \"http://example.com/keys\"\n".to_owned(),
            None,
            "plain http",
        ),
        (
            format!("jwks = {jwks:?}\n[endpoints]\nenvoy_prefix = \"/\"\n"),
            None,
            "envoy_prefix",
        ),
    ] {
        std::fs::write(&config, &text).unwrap();
        let out = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .args(flag)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{want} not in {err}");
    }
    std::fs::write(
        &config,
        format!("jwks = {jwks:?}\nlisten = \"127.0.0.1:0\"\n"),
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
