//! mfagate-serve: the mfagate decision in front of any application, as the
//! external authorization service of a reverse proxy (nginx `auth_request`,
//! Caddy `forward_auth`, Traefik `ForwardAuth`, Envoy `ext_authz` over HTTP
//! and gRPC). Every rule is the core's (crate `mfagate`); this crate reads
//! each proxy's protocol, performs the JWKS fetches the core's refresher
//! asks for, and writes the core's answers back. docs/serve.md is the
//! operator's guide.
#![forbid(unsafe_code)]

pub mod answer;
pub mod audit;
pub mod clock;
pub mod config;
mod decide;
pub mod extract;
mod fetch;
mod grpc;
mod keys;
pub mod log;
pub mod metrics;
pub mod protocol;
pub mod rejection;
pub mod reload;
pub mod respond;
mod router;
mod server;
pub mod state;

use config::{Checked, JwksSource};
use envoy_types::ext_authz::v3::pb::AuthorizationServer;
use keys::Keys;
use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A server bound to its address, with its policy and first keys loaded:
/// every configuration error has been reported by now.
pub struct Server {
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop_tx: watch::Sender<bool>,
}

/// Why the server could not start.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Stops a running server (what SIGTERM does).
#[derive(Clone)]
pub struct Stopper(watch::Sender<bool>);

impl Stopper {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl Server {
    /// Loads the policy and the keys and binds the listener.
    pub async fn bind(checked: Checked) -> Result<Server, StartError> {
        let policy = mfagate::Policy::from_spec_str(&checked.settings.policy)
            .map_err(|e| StartError(format!("the policy does not load: {e}")))?;
        let (keys, refresher) = match &checked.jwks {
            JwksSource::File(p) => (Keys::File(p.clone()), None),
            JwksSource::Url(u) => {
                let r = mfagate::Refresher::new(u, checked.settings.jwks_refresh.options())
                    .map_err(|e| StartError(e.to_string()))?;
                (Keys::url(fetch::client().map_err(StartError)?), Some(r))
            }
        };
        let feed = keys::feed(&keys, refresher).map_err(StartError)?;
        let tls = match &checked.settings.tls {
            Some(t) => Some(server::tls_acceptor(&t.cert, &t.key).map_err(StartError)?),
            None => None,
        };
        let listener = TcpListener::bind(checked.listen).await.map_err(|e| {
            StartError(format!(
                "cannot listen on {}: {e} (is another process using it?)",
                checked.listen
            ))
        })?;
        let shared = Arc::new(Shared::new(checked, policy, keys, feed));
        Ok(Server {
            shared,
            listener,
            tls,
            stop_tx: watch::channel(false).0,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop_tx.clone())
    }

    /// Serves until stopped, then drains open requests (at most
    /// `shutdown_grace`) and returns.
    pub async fn run(self) {
        let Server {
            shared,
            listener,
            tls,
            stop_tx,
        } = self;
        let stop = stop_tx.subscribe();
        if matches!(shared.keys, Keys::Url(_)) {
            tokio::spawn(keys::drive(Arc::clone(&shared), stop.clone()));
        }
        if let Some(interval) = shared.checked.watch_interval() {
            tokio::spawn(reload::watch_files(
                Arc::clone(&shared),
                interval,
                stop.clone(),
            ));
        }
        let router = Arc::new(router::Router {
            grpc: AuthorizationServer::new(grpc::Check {
                shared: Arc::clone(&shared),
            }),
            shared: Arc::clone(&shared),
        });
        // Readiness goes down first, so load balancers stop sending while
        // open requests finish.
        let mut draining = stop.clone();
        let s = Arc::clone(&shared);
        tokio::spawn(async move {
            while draining.changed().await.is_ok() {
                if *draining.borrow() {
                    s.draining.store(true, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
            }
        });
        server::serve(shared, router, listener, tls, stop).await;
        drop(stop_tx);
    }
}
