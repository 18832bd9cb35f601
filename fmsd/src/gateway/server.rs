//! The accept loop: HTTP/1.1 connections served with the timeouts and the cap that keep idle or
//! slow clients from holding fmsd.
//!
//! A connection has `header_timeout` to send its request's headers, counted from when it opens
//! and again from the end of each answer, so a silent connection, half-sent headers and an idle
//! keep-alive connection are all closed after it (a JSON body has its own deadline,
//! [`super::deadline`]). At most `max_connections` are served at once; past the cap fmsd stops
//! accepting, so new connections wait in the kernel's queue rather than use up file
//! descriptors, and one warning says so (then at most one every [`WARN_EVERY`]).
//!
//! **Invariant:** every connection holds a slot of the cap until it is closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// How often, at most, the same warning about connections is logged.
const WARN_EVERY: Duration = Duration::from_secs(30);

/// How long accepting pauses after it failed (out of file descriptors, say), so the loop does
/// not spin while the cause lasts.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// What bounds the connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest a connection may take to send a request's headers.
    pub header_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown`; in-flight requests finish first, idle
/// connections are closed at once.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut full_warning = Throttled::default();
    let mut accept_warning = Throttled::default();
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if full_warning.due() {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached: new connections wait until one closes \
                         (gateway.max_connections)"
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => slot?,
                    () = shutdown.cancelled() => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if accept_warning.due() {
                        tracing::warn!(%error, "failed to accept a connection");
                    }
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let connection = graceful.watch(
            http.serve_connection(TokioIo::new(tuned(stream)), service(router.clone(), peer)),
        );
        tokio::spawn(hold_slot_while(connection, slot));
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Runs `connection` to its end, then gives its slot back.
async fn hold_slot_while(
    connection: impl std::future::Future<Output = hyper::Result<()>>,
    slot: OwnedSemaphorePermit,
) {
    if let Err(error) = connection.await {
        // Timeouts, resets and malformed requests: the client's doing, not an fmsd fault.
        tracing::debug!(%error, "connection ended with an error");
    }
    drop(slot);
}

/// The stream with small answers sent at once rather than held for the client's delayed ACK.
fn tuned(stream: TcpStream) -> TcpStream {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "failed to set TCP_NODELAY");
    }
    stream
}

/// The router as a hyper service for one connection, each request carrying the peer's address
/// for the extractors that need it.
fn service(
    router: Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send,
> + Clone {
    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(Body::new))
    })
}

/// A warning logged at most once every [`WARN_EVERY`].
#[derive(Debug, Default)]
struct Throttled {
    /// When it was last logged.
    last: Option<Instant>,
}

impl Throttled {
    /// Whether to log it now (and if so, counts it as logged).
    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self.last.is_some_and(|last| now < last + WARN_EVERY) {
            return false;
        }
        self.last = Some(now);
        true
    }
}
