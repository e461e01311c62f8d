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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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

fn start_nginx(dir: &Path, sites: &str) -> Proc {
    let conf = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log warn;\ndaemon off;\n\
         events {{ worker_connections 1024; }}\nhttp {{\naccess_log off;\n\
         client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n{sites}\n}}\n",
        d = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("nginx-stderr.log")).unwrap())
        .spawn()
        .unwrap();
    Proc(child)
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

fn start_caddy(dir: &Path, sites: &str) -> Proc {
    let path = dir.join("Caddyfile");
    std::fs::write(
        &path,
        format!("{{\n\tadmin off\n\tauto_https off\n}}\n{sites}"),
    )
    .unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", &home)
        .env("XDG_DATA_HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("caddy.log")).unwrap())
        .spawn()
        .unwrap();
    Proc(child)
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
/// request line it cannot parse), with the status the core would give.
fn refused_by_proxy(d: &mfagate::Decision, got: &Resp) -> bool {
    got.status == d.http.status && got.header("cache-control") != Some("no-store")
}

/// Replays every case through the proxy's port for its gate.
fn replay(proxy: &str, ports: &[u16], groups: &[Group], app: &Recorder) -> Tally {
    let mut tally = Tally::default();
    let mut by_proxy = Vec::new();
    for (g, port) in groups.iter().zip(ports) {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        for c in &g.cases {
            let r = &c.request;
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
                (false, None) if refused_by_proxy(&d, &got) => {
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
    drop(proc);
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
