//! The HTTP GET the core's refresher asks for: rustls only, no redirect
//! followed (hyper's client never follows one; the refresher reads a 3xx as
//! a failed fetch), the size limit enforced while reading, the timeout over
//! the whole fetch (connection, headers and body).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// A client that trusts the system's CA certificates. Without any (a bare
/// container), https sources fail at each fetch and a warning says why;
/// loopback http sources still work.
pub fn client() -> Result<HttpsClient, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(Arc::clone(&provider))
    {
        Ok(b) => b,
        Err(e) => {
            crate::log::warn(format!(
                "no CA certificates found ({e}): https JWKS sources cannot be verified; install ca-certificates or mount /etc/ssl/certs"
            ));
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS client configuration: {e}"))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let connector = builder.https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector))
}

/// The answer to report with `Refresher::fetched`, or why there was none
/// (for `Refresher::failed`). The reason names the URL and what went wrong,
/// never the body.
pub async fn get(
    client: &HttpsClient,
    url: &str,
    timeout_ms: u64,
    max_bytes: usize,
) -> Result<(u16, Vec<u8>), String> {
    let limit = Duration::from_millis(timeout_ms);
    match tokio::time::timeout(limit, get_within(client, url, max_bytes)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "GET {url} gave no complete answer within {} s",
            limit.as_secs_f64()
        )),
    }
}

async fn get_within(
    client: &HttpsClient,
    url: &str,
    max_bytes: usize,
) -> Result<(u16, Vec<u8>), String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("the URL {url} cannot be parsed: {e}"))?;
    let req = http::Request::get(uri)
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::USER_AGENT,
            concat!("mfagate-serve/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("GET {url}: {e}"))?;
    let resp = client.request(req).await.map_err(|e| {
        let mut why = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            why.push_str(": ");
            why.push_str(&s.to_string());
            src = s.source();
        }
        format!("GET {url} failed: {why}")
    })?;
    let status = resp.status().as_u16();
    if status != 200 {
        // The refresher reports the status (and that redirects are not
        // followed); the body is not needed.
        return Ok((status, Vec::new()));
    }
    let too_large = || format!("the document at {url} is larger than {max_bytes} bytes");
    let declared = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        return Err(too_large());
    }
    let mut body = resp.into_body();
    let mut buf = Vec::with_capacity(declared.map_or(8192, |n| n as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the answer of GET {url}: {e}"))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max_bytes {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok((status, buf))
}
