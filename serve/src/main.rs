//! `mfagate-serve`: reads the settings, starts the server, and turns
//! signals into actions (SIGHUP: reload; SIGTERM, SIGINT: drain and stop).

use clap::Parser;
use mfagate_serve::config::Settings;
use mfagate_serve::{log, reload, Server};
use std::path::PathBuf;
use std::process::ExitCode;

/// mfagate as a forward-auth server for nginx, Caddy, Traefik and Envoy
/// (docs/serve.md).
#[derive(Debug, Parser)]
#[command(name = "mfagate-serve", version)]
struct Args {
    /// The settings file (TOML). Without it, the defaults and the flags below.
    #[arg(long, short, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address and port to listen on (overrides `listen`).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The policy: a built-in name, JSON text or a file (overrides `policy`).
    #[arg(long, value_name = "POLICY")]
    policy: Option<String>,
    /// The JWKS source: an https URL or a JWK Set file (overrides `jwks`).
    #[arg(long, value_name = "SOURCE")]
    jwks: Option<String>,
    /// TESTING ONLY: allow `clock = "fixed:<unix>"`, which makes expired
    /// tokens pass; never in production.
    #[arg(long)]
    testing: bool,
    /// Check the settings, load the policy and the keys, then exit.
    #[arg(long)]
    check: bool,
}

fn settings(args: &Args) -> Result<mfagate_serve::config::Checked, String> {
    let mut s = match &args.config {
        Some(p) => Settings::from_file(p).map_err(|e| e.to_string())?,
        None => Settings::default(),
    };
    if let Some(v) = &args.listen {
        s.listen = v.clone();
    }
    if let Some(v) = &args.policy {
        s.policy = v.clone();
    }
    if let Some(v) = &args.jwks {
        s.jwks = v.clone();
    }
    s.check(args.testing).map_err(|e| e.to_string())
}

async fn run(server: Server) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).map_err(|e| format!("SIGHUP: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let shared = server.shared();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            reload::all(std::sync::Arc::clone(&shared), "SIGHUP").await;
        }
    });
    let stopper = server.stopper();
    tokio::spawn(async move {
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        log::info(format!(
            "{which}: no new connections; open requests may finish"
        ));
        stopper.stop();
    });
    server.run().await;
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let checked = match settings(&args) {
        Ok(c) => c,
        Err(e) => {
            log::error(e);
            return ExitCode::from(2);
        }
    };
    if let mfagate_serve::clock::Clock::Fixed(t) = checked.clock {
        log::warn(format!(
            "TESTING: every decision is made at the fixed time {t} (clock = \"fixed:{t}\"); expired tokens pass. Never run this in production."
        ));
    }
    let threads = match checked.settings.worker_threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            log::error(format!("cannot start the runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let check = args.check;
    rt.block_on(async move {
        let server = match Server::bind(checked).await {
            Ok(s) => s,
            Err(e) => {
                log::error(e);
                return ExitCode::from(1);
            }
        };
        if check {
            log::info("the settings, the policy and the keys are usable");
            return ExitCode::SUCCESS;
        }
        let addr = server
            .local_addr()
            .map_or_else(|| "?".to_owned(), |a| a.to_string());
        log::info(format!("listening on {addr}"));
        match run(server).await {
            Ok(()) => {
                log::info("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                log::error(e);
                ExitCode::from(1)
            }
        }
    })
}
