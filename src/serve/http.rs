//! The connections: accept, optional TLS, HTTP/1.1 with limits, graceful stop. Each connection
//! is its own task, so a slow, broken or hostile client costs one task and never delays
//! another request: headers must arrive within [`HEADER_TIMEOUT`] and fit in [`MAX_HEADER`]
//! (431 otherwise), bodies are read by the handlers with a limit and a timeout of their own,
//! and a TLS handshake that stalls is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEADER: usize = 16 * 1024;
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight get to finish after a stop signal.
const GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` until `stop` turns true, then lets the requests in flight
/// finish (for at most [`GRACE`]).
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
    connections: Arc<AtomicUsize>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_header_size(MAX_HEADER)
        .max_buf_size(MAX_HEADER.max(8192) * 2)
        .keep_alive(true);
    let http = Arc::new(http);
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let (http, router, watcher, tls) = (http.clone(), router.clone(), graceful.watcher(), tls.clone());
                    let open = Open::new(connections.clone());
                    tokio::spawn(async move {
                        let _open = open;
                        match tls {
                            None => serve_connection(&http, stream, router, watcher).await,
                            Some(acceptor) => {
                                if let Ok(Ok(stream)) = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                    serve_connection(&http, stream, router, watcher).await;
                                }
                            }
                        }
                    });
                }
                // Out of file descriptors, most likely: let connections close before the next.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
}

/// One open connection on the gauge, for as long as it lives.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn new(gauge: Arc<AtomicUsize>) -> Open {
        gauge.fetch_add(1, Ordering::Relaxed);
        Open(gauge)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn serve_connection<S>(
    http: &http1::Builder,
    stream: S,
    router: axum::Router,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    // An error here is the client's (it went away, sent garbage, was too slow): its answer, if
    // any, was given by hyper; nothing else is affected.
    let _ = watcher.watch(connection).await;
}

/// The TLS set-up of `--tls-cert` and `--tls-key`.
pub fn tls_acceptor(cert: &std::path::Path, key: &std::path::Path) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("--tls-cert: cannot read a PEM certificate chain from {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("--tls-cert: {} holds no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key: cannot read a PEM private key from {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| format!("--tls-cert, --tls-key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
