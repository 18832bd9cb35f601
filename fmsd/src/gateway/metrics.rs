//! HTTP and metrics: the middleware that counts and times every request by its route template,
//! and the `/metrics` endpoint, served on a listener of its own (`[metrics] listen`) so the
//! series are not on the public port.
//!
//! A request is labelled with the route it matched (`/v1/files/{id}`, `/s/{token}`), never its
//! path, which may hold a link's token and would make a series per file; a request no route
//! matched is labelled `unmatched`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http_body::{Frame, SizeHint};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Gauges, Recorder};

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// The middleware: one count and one duration per answered request.
pub async fn record_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    crate::metrics::http_request(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// A body that counts its bytes as they go out, and keeps the size it announces (so the
/// answer's `Content-Length` and the access log's byte count stay as they were).
pub struct CountedBody {
    /// The body counted.
    inner: Body,
    /// Told the size of each chunk sent.
    count: fn(usize),
}

impl CountedBody {
    /// `inner`, each chunk's size told to `count`.
    pub fn new(inner: Body, count: fn(usize)) -> Self {
        Self { inner, count }
    }
}

impl http_body::Body for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                (self.count)(data.len());
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What the metrics endpoint needs.
#[derive(Clone)]
struct Scrape {
    /// Renders the series.
    recorder: Recorder,
    /// Read just before rendering.
    gauges: Arc<dyn Gauges>,
}

/// `GET /metrics`, and nothing else.
pub fn router(recorder: Recorder, gauges: Arc<dyn Gauges>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { recorder, gauges })
}

async fn scrape(State(scrape): State<Scrape>) -> impl IntoResponse {
    scrape.gauges.refresh().await;
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        scrape.recorder.render(),
    )
}

/// Serves `router` on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .map_err(|error| anyhow::anyhow!("the metrics endpoint failed: {error}"))
}
