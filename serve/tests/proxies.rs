//! Behind real proxies: nginx (`auth_request`) and Caddy (`forward_auth`)
//! from Debian's packages, run as this test's own processes on loopback
//! with the shipped configurations (serve/proxies/), in front of an
//! application that records what it receives. The conformance vectors'
//! requests through the proxy must get the core's exact answer, or reach
//! the application with the gate's subject headers; clients' own
//! forwarded and X-Mfagate-* headers must change nothing.
//!
//! Needs `nginx` and `caddy` on PATH; serve/test.sh installs them and sets
//! MFAGATE_PROXY_TESTS=1, which turns a missing binary into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use mfagate::Reason;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One proxy test at a time: each picks free ports, releases them and has
/// the proxy bind them, and a test running beside it could take one in
/// between (seen: Caddy's "address already in use").
static PORTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    PORTS.lock().unwrap_or_else(|p| p.into_inner())
}

/// How long a proxy may live: the watchdog kills it after this even if the
/// test hangs or dies.
const WATCHDOG: Duration = Duration::from_secs(300);

fn have(bin: &str) -> bool {
    let found = Command::new(bin)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
        || Command::new(bin)
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
    if !found {
        assert!(
            std::env::var_os("MFAGATE_PROXY_TESTS").is_none(),
            "{bin} is not installed (serve/test.sh installs it)"
        );
        println!("{bin} not installed: skipped (run serve/test.sh)");
    }
    found
}

fn wait_for(port: u16, what: &str, log: &Path) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} did not listen on {port}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn template(name: &str) -> String {
    std::fs::read_to_string(repo().join("serve/proxies").join(name)).unwrap()
}

fn nginx_site(gate: SocketAddr, app: SocketAddr, port: u16, n: usize) -> String {
    template("nginx.conf")
        .replace("127.0.0.1:9180", &gate.to_string())
        .replace("127.0.0.1:8080", &app.to_string())
        .replace("127.0.0.1:8000", &format!("127.0.0.1:{port}"))
        .replace("upstream mfagate {", &format!("upstream mfagate_{n} {{"))
        .replace("http://mfagate", &format!("http://mfagate_{n}"))
        .replace("upstream app {", &format!("upstream app_{n} {{"))
        .replace("http://app;", &format!("http://app_{n};"))
}

/// nginx in the foreground (`daemon off`) with its master and one worker,
/// all in one process group that [`Supervised`] stops together.
fn start_nginx(dir: &Path, sites: &str) -> Supervised {
    let conf = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log warn;\ndaemon off;\n\
         events {{ worker_connections 1024; }}\nhttp {{\naccess_log off;\n\
         client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n{sites}\n}}\n",
        d = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let mut cmd = Command::new("nginx");
    cmd.arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("nginx-stderr.log")).unwrap());
    Supervised::spawn(cmd, "nginx", dir, WATCHDOG)
}

fn caddy_site(gate: SocketAddr, app: SocketAddr, port: u16) -> String {
    template("Caddyfile")
        .replace("127.0.0.1:9180", &gate.to_string())
        .replace("127.0.0.1:8080", &app.to_string())
        .replace(
            "http://:8000 {",
            &format!("http://:{port} {{\n\tbind 127.0.0.1"),
        )
}

fn start_caddy(dir: &Path, sites: &str) -> Supervised {
    let path = dir.join("Caddyfile");
    std::fs::write(
        &path,
        format!("{{\n\tadmin off\n\tauto_https off\n}}\n{sites}"),
    )
    .unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new("caddy");
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("caddy.log")).unwrap());
    Supervised::spawn(cmd, "caddy", dir, WATCHDOG)
}

/// The path the proxy hands both the gate and the application. Caddy (Go's
/// `URL.RequestURI`) escapes a `\` as `%5C`, which the core refuses as an
/// escaped separator (400): a refusal of what the application would get.
/// nginx passes `$request_uri` as received.
fn forwarded_path(proxy: &str, path: &str) -> String {
    match proxy {
        "caddy" => path.replace('\\', "%5C"),
        _ => path.to_owned(),
    }
}

/// The proxy refused the request itself, before asking the gate (a
/// request line it cannot parse), with the status the core would give; or
/// with its own 400 for a Host header no proxy accepts (a list of hosts, as
/// only X-Forwarded-Host may carry), which the core refuses too.
fn refused_by_proxy(d: &mfagate::Decision, got: &Resp, host: Option<&str>) -> bool {
    let own = got.header("cache-control") != Some("no-store");
    own && (got.status == d.http.status
        || (got.status == 400 && host.is_some_and(|h| h.contains(','))))
}

/// Replays every case through the proxy's port for its gate.
fn replay(proxy: &str, ports: &[u16], groups: &[Group], app: &Recorder) -> Tally {
    let mut tally = Tally::default();
    let mut by_proxy = Vec::new();
    for (g, port) in groups.iter().zip(ports) {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        for c in &g.cases {
            let r = &c.request;
            // A control character in the path or host: decided through
            // gRPC in tests/protocols.rs; no client can send it as is.
            if !case_header_sendable(c) {
                continue;
            }
            let id = format!("{proxy}-{}", c.id);
            let mut h = client_headers(c);
            h.push(("X-Test-Id".into(), id.clone()));
            if let Some(host) = &r.host {
                h.push(("Host".into(), host.clone()));
            }
            let mut case = c.clone();
            case.request.path = forwarded_path(proxy, &r.path);
            let d = core_decision(g, &case, Some("127.0.0.1"));
            let got = send(addr, &r.method, &r.path, &h);
            let reached = app.take(&id);
            let m = match (d.is_allowed(), reached) {
                (true, Some(seen)) => {
                    if got.status != 200 || (r.method != "HEAD" && got.text() != "upstream ok") {
                        Some(format!(
                            "allowed, but the client got {} {:?}",
                            got.status,
                            got.text()
                        ))
                    } else if value(&seen, "x-mfagate-reason") != Some(d.reason.as_str()) {
                        Some(format!(
                            "the application got X-Mfagate-Reason {:?}, the core says {}",
                            value(&seen, "x-mfagate-reason"),
                            d.reason
                        ))
                    } else {
                        d.http.headers.iter().find_map(|(k, v)| {
                            (got.header(k) != Some(v.as_str())).then(|| {
                                format!(
                                    "{k}: {:?} on the answer, the core says {v:?}",
                                    got.header(k)
                                )
                            })
                        })
                    }
                }
                (true, None) => Some(format!(
                    "the core allows ({}), the proxy answered {} {:?}",
                    d.reason,
                    got.status,
                    got.text()
                )),
                (false, Some(_)) => Some(format!(
                    "REACHED THE APPLICATION, the core refuses ({})",
                    d.reason
                )),
                (false, None) if refused_by_proxy(&d, &got, r.host.as_deref()) => {
                    by_proxy.push(c.id.clone());
                    None
                }
                (false, None) => refusal_mismatch(&d, &got, r.method != "HEAD"),
            };
            tally.check(format!("{} {proxy}", c.id), m);
        }
    }
    println!(
        "{proxy}: {} requests refused by {proxy} itself, with the core's status: {}",
        by_proxy.len(),
        by_proxy.join(", ")
    );
    tally
}

/// Clients' own headers change nothing: a forwarded URI naming a public
/// route, and a made-up X-Mfagate-User on a token that has no user.
fn spoofing(proxy: &str, ports: &[u16], groups: &[Group], app: &Recorder) -> Tally {
    let mut tally = Tally::default();
    let public = groups.iter().zip(ports).find_map(|(g, p)| {
        let c = g
            .cases
            .iter()
            .find(|c| core_decision(g, c, None).reason == Reason::PublicRoute)?;
        let protected = g.cases.iter().find(|c| {
            let d = core_decision(g, c, None);
            !d.is_allowed() && d.http.status == 401 && c.request.host.is_none()
        })?;
        Some((g, *p, c.request.path.clone(), protected))
    });
    let (g, port, public_path, protected) = public.expect("a policy with a public route");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let id = format!("{proxy}-spoof-uri");
    let mut h = client_headers(protected);
    for name in ["X-Forwarded-Uri", "X-Original-URI", "X-Rewrite-Url"] {
        h.push((name.into(), public_path.clone()));
    }
    h.push(("X-Forwarded-Method".into(), "GET".into()));
    h.push(("X-Original-Method".into(), "GET".into()));
    h.push(("X-Test-Id".into(), id.clone()));
    let d = core_decision(g, protected, Some("127.0.0.1"));
    let got = send(addr, &protected.request.method, &protected.request.path, &h);
    let reached = app.take(&id).is_some();
    tally.check(
        format!(
            "{proxy}: X-Forwarded-Uri {public_path} on {}",
            protected.request.path
        ),
        if reached {
            Some("REACHED THE APPLICATION".into())
        } else {
            refusal_mismatch(&d, &got, true)
        },
    );

    // An allowed app-only token (no user): the client's X-Mfagate-User
    // must not reach the application.
    let app_only = groups.iter().zip(ports).find_map(|(g, p)| {
        g.cases.iter().find_map(|c| {
            let d = core_decision(g, c, Some("127.0.0.1"));
            (d.is_allowed() && d.reason == Reason::AppOnlyExempt && c.request.host.is_none())
                .then_some((*p, c))
        })
    });
    let (port, c) = app_only.expect("an allowed app-only case");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let id = format!("{proxy}-spoof-user");
    let mut h = client_headers(c);
    h.push(("X-Mfagate-User".into(), "admin@contoso.example".into()));
    h.push(("X-Mfagate-Roles".into(), "admin_agent".into()));
    h.push(("X-Test-Id".into(), id.clone()));
    let got = send(addr, &c.request.method, &c.request.path, &h);
    let seen = app.take(&id);
    tally.check(
        format!("{proxy}: a client's X-Mfagate-User on an app-only token"),
        match seen {
            None => Some(format!("not allowed: {} {}", got.status, got.text())),
            Some(seen) => {
                let user = value(&seen, "x-mfagate-user").unwrap_or("");
                let roles = value(&seen, "x-mfagate-roles").unwrap_or("");
                (!user.is_empty() || !roles.is_empty()).then(|| {
                    format!(
                        "the application got X-Mfagate-User {user:?}, X-Mfagate-Roles {roles:?}"
                    )
                })
            }
        },
    );
    tally
}

fn run_proxy(name: &str) {
    if !have(name) {
        return;
    }
    let _ports = one_at_a_time();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir(name);
    let (groups, _) = groups();
    let (app, app_addr) = Recorder::start();
    let gates: Vec<Running> = groups
        .iter()
        .enumerate()
        .map(|(n, g)| rt.block_on(start_group(g, &dir, n)))
        .collect();
    // The proxy's ports, held until it starts so nothing else takes them.
    let held: Vec<std::net::TcpListener> = gates
        .iter()
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = held
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let mut sites = String::new();
    for (n, (gate, port)) in gates.iter().zip(&ports).enumerate() {
        sites.push_str(&match name {
            "nginx" => nginx_site(gate.addr, app_addr, *port, n),
            _ => caddy_site(gate.addr, app_addr, *port),
        });
    }
    drop(held);
    let proc = match name {
        "nginx" => start_nginx(&dir, &sites),
        _ => start_caddy(&dir, &sites),
    };
    let log = dir.join(if name == "nginx" {
        "nginx-stderr.log"
    } else {
        "caddy.log"
    });
    for p in &ports {
        wait_for(*p, name, &log);
    }
    let mut tally = replay(name, &ports, &groups, &app);
    let spoof = spoofing(name, &ports, &groups, &app);
    tally.passed += spoof.passed;
    tally.failed.extend(spoof.failed);
    proc.finish();
    for g in gates {
        g.stopper.stop();
        rt.block_on(g.task).unwrap();
    }
    tally.finish(&format!("behind {name}"));
}

#[test]
fn behind_nginx() {
    run_proxy("nginx");
}

#[test]
fn behind_caddy() {
    run_proxy("caddy");
}

/// A CGI-style application: Python's wsgiref, which reads every header as
/// `HTTP_` + its name upper-cased with `-` as `_` (so `X-Mfagate-Roles` and
/// `X_Mfagate_Roles` are one variable, joined with `,`), as PHP FastCGI and
/// CGI do. It answers the request's `HTTP_*` variables as JSON.
const CGI_APP: &str = r#"
import json, sys
from wsgiref.simple_server import make_server, WSGIRequestHandler

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

def app(environ, start_response):
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_")}
    body = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]

make_server("127.0.0.1", int(sys.argv[1]), app, handler_class=Quiet).serve_forever()
"#;

fn start_cgi_app(dir: &Path) -> (Supervised, SocketAddr) {
    let script = dir.join("cgi_app.py");
    std::fs::write(&script, CGI_APP).unwrap();
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("cgi-app.log")).unwrap());
    let app = Supervised::spawn(cmd, "python3 wsgiref app", dir, WATCHDOG);
    wait_for(port, "the wsgiref app", &dir.join("cgi-app.log"));
    (app, format!("127.0.0.1:{port}").parse().unwrap())
}

/// Every spelling of a gate header a client can send that a CGI-style
/// application reads as the gate's: the name as written, upper and lower
/// case, `_` for every `-`, and mixes.
fn forged_spellings(name: &str) -> Vec<String> {
    let under = name.replace('-', "_");
    let mixed = name.replacen('-', "_", 1);
    let tail = {
        let i = name.rfind('-').unwrap_or(0);
        format!("{}_{}", &name[..i], &name[i + 1..])
    };
    vec![
        name.to_owned(),
        name.to_ascii_uppercase(),
        name.to_ascii_lowercase(),
        under.clone(),
        under.to_ascii_lowercase(),
        mixed,
        tail,
    ]
}

fn cgi_var(name: &str) -> String {
    format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_"))
}

/// Issue 18, items 4 and 7: behind the shipped nginx and Caddy
/// configurations, a CGI-style application sees exactly the gate's
/// `X-Mfagate-*` values (or none where the gate's is empty), whatever
/// spellings of them the client forged, and never the client's
/// `isMfaCompliant`; an allow without `isMfaCompliant` shows no literal
/// `{http.…}` placeholder to the application or the client, and an allow
/// with one gives it to the client and the application.
fn identity_headers(proxy: &str) {
    if !have(proxy) {
        return;
    }
    let _ports = one_at_a_time();
    let python = Command::new("python3")
        .args(["-c", "import wsgiref.simple_server"])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        python,
        "python3 (with wsgiref) is needed for the CGI-style application"
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = temp_dir(&format!("identity-{proxy}"));
    let (groups, _) = groups();
    // An allowed app-only token (no user, no roles, no isMfaCompliant), and
    // an allow that answers isMfaCompliant (2026 rules, ValidateMfa: true).
    let pick = |want: &dyn Fn(&mfagate::Decision) -> bool| {
        groups
            .iter()
            .enumerate()
            .find_map(|(n, g)| {
                g.cases.iter().find_map(|c| {
                    let d = core_decision(g, c, Some("127.0.0.1"));
                    (c.request.host.is_none() && want(&d)).then(|| (n, c.clone(), d))
                })
            })
            .expect("a vector for the identity-header test")
    };
    let plain =
        pick(&|d| d.is_allowed() && d.reason == Reason::AppOnlyExempt && d.http.headers.is_empty());
    let compliant = pick(&|d| {
        d.is_allowed()
            && d.http
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("ismfacompliant"))
    });
    let (app, app_addr) = start_cgi_app(&dir);
    let mut needed: Vec<usize> = vec![plain.0, compliant.0];
    needed.dedup();
    let gates: Vec<(usize, Running)> = needed
        .iter()
        .map(|&n| (n, rt.block_on(start_group(&groups[n], &dir, n))))
        .collect();
    let ports: Vec<u16> = gates.iter().map(|_| free_port()).collect();
    let mut sites = String::new();
    for (i, ((_, gate), port)) in gates.iter().zip(&ports).enumerate() {
        sites.push_str(&match proxy {
            "nginx" => nginx_site(gate.addr, app_addr, *port, i),
            _ => caddy_site(gate.addr, app_addr, *port),
        });
    }
    let proc = match proxy {
        "nginx" => start_nginx(&dir, &sites),
        _ => start_caddy(&dir, &sites),
    };
    let log = dir.join(if proxy == "nginx" {
        "nginx-stderr.log"
    } else {
        "caddy.log"
    });
    for p in &ports {
        wait_for(*p, proxy, &log);
    }
    let port_of = |group: usize| {
        let i = gates.iter().position(|(n, _)| *n == group).unwrap();
        ports[i]
    };

    let mut tally = Tally::default();
    for (what, (group, c, d)) in [("app-only", &plain), ("isMfaCompliant", &compliant)] {
        let addr: SocketAddr = format!("127.0.0.1:{}", port_of(*group)).parse().unwrap();
        let mut h = client_headers(c);
        for name in mfagate_serve::answer::SUBJECT_HEADERS {
            for (i, spelling) in forged_spellings(name).into_iter().enumerate() {
                h.push((spelling, format!("forged{i}")));
            }
        }
        for spelling in ["isMfaCompliant", "ISMFACOMPLIANT", "ismfacompliant"] {
            h.push((spelling.into(), "forged".into()));
        }
        // Another host than the one the gate decides on, for frameworks
        // that read the proxy's headers.
        h.push(("X-Forwarded-Host".into(), "admin.contoso.example".into()));
        h.push(("Forwarded".into(), "host=admin.contoso.example".into()));
        let got = send(addr, &c.request.method, &c.request.path, &h);
        let seen: serde_json::Map<String, serde_json::Value> =
            match serde_json::from_slice(&got.body) {
                Ok(v) => v,
                Err(_) => {
                    tally.check(
                        format!("{proxy} {what}"),
                        Some(format!("not allowed: {} {}", got.status, got.text())),
                    );
                    continue;
                }
            };
        let mut problems = Vec::new();
        let want = mfagate_serve::answer::subject_values(d);
        for (name, value) in mfagate_serve::answer::SUBJECT_HEADERS.iter().zip(want) {
            let var = cgi_var(name);
            let have = seen.get(&var).and_then(|v| v.as_str()).unwrap_or("");
            if have != value {
                problems.push(format!("{var} = {have:?}, the gate's is {value:?}"));
            }
        }
        let forwarded_host = seen.get("HTTP_X_FORWARDED_HOST").and_then(|v| v.as_str());
        if !forwarded_host.is_some_and(|v| v.starts_with("127.0.0.1")) {
            problems.push(format!(
                "HTTP_X_FORWARDED_HOST = {forwarded_host:?}, not the host the gate decided on"
            ));
        }
        if let Some(v) = seen.get("HTTP_FORWARDED") {
            problems.push(format!("HTTP_FORWARDED = {v} reached the application"));
        }
        if let Some(v) = seen.get("HTTP_ISMFACOMPLIANT") {
            problems.push(format!("HTTP_ISMFACOMPLIANT = {v} reached the application"));
        }
        for (k, v) in &seen {
            if v.as_str().is_some_and(|v| v.contains("{http.")) {
                problems.push(format!("{k} = {v}: a Caddy placeholder"));
            }
        }
        for (k, v) in &got.headers {
            if v.contains("{http.") {
                problems.push(format!(
                    "{k}: {v} on the client's answer: a Caddy placeholder"
                ));
            }
        }
        let expected = d
            .http
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("ismfacompliant"))
            .map(|(_, v)| v.as_str());
        if got.header("ismfacompliant") != expected || got.all("ismfacompliant").len() > 1 {
            problems.push(format!(
                "isMfaCompliant on the client's answer {:?}, the core says {expected:?}",
                got.all("ismfacompliant")
            ));
        }
        tally.check(
            format!("{proxy} {what}"),
            (!problems.is_empty()).then(|| problems.join("; ")),
        );
    }
    proc.finish();
    app.finish();
    for (_, g) in gates {
        g.stopper.stop();
        rt.block_on(g.task).unwrap();
    }
    tally.finish(&format!("identity headers behind {proxy}"));
}

#[test]
fn identity_headers_behind_nginx() {
    identity_headers("nginx");
}

#[test]
fn identity_headers_behind_caddy() {
    identity_headers("caddy");
}

/// docs/serve.md shows exactly the configurations these tests run.
#[test]
fn docs_show_the_tested_configurations() {
    let docs = std::fs::read_to_string(repo().join("docs/serve.md")).unwrap();
    for (fence, file) in [
        ("```nginx\n", "nginx.conf"),
        ("```caddyfile\n", "Caddyfile"),
    ] {
        let start = docs
            .find(fence)
            .unwrap_or_else(|| panic!("no {fence} block in docs/serve.md"))
            + fence.len();
        let end = start + docs[start..].find("\n```").unwrap() + 1;
        assert_eq!(
            &docs[start..end],
            template(file),
            "docs/serve.md's {file} differs from serve/proxies/{file}"
        );
    }
}

/// The state of process `pid` (`R`, `S`, `Z`, …), None when it is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(") ")
                        .and_then(|(_, rest)| rest.split(' ').nth(1)?.parse::<u32>().ok())
                })
                == Some(pid)
        })
        .collect()
}

/// Issue 18, item 11: stopping nginx stops its workers too (a run once left
/// a worker, parent 1, listening on the tests' ports), and nothing listens
/// on its port afterwards.
#[test]
fn nginx_stops_with_its_workers() {
    if !have("nginx") {
        return;
    }
    let _ports = one_at_a_time();
    let dir = temp_dir("nginx-stop");
    let port = free_port();
    let proc = start_nginx(
        &dir,
        &format!("server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}"),
    );
    wait_for(port, "nginx", &dir.join("nginx-stderr.log"));
    let master = proc.id();
    let mut workers = Vec::new();
    wait_until_true(|| {
        workers = children_of(master);
        !workers.is_empty()
    });
    proc.finish();
    for w in workers {
        let state = proc_state(w);
        assert!(
            matches!(state, None | Some('Z')),
            "nginx worker {w} still running ({state:?}) after its master stopped"
        );
    }
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something still listens on nginx's port {port}"
    );
}

fn wait_until_true(mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}
