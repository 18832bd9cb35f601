//! Tags every request with a correlation id and logs one line per request.
//!
//! A client-sent `x-correlation-id` is kept when it is short and printable, so a trace can start
//! at the client; otherwise one is made. The id is in every log line of the request, in the
//! envelope of every event it causes, and in the answer's headers.

use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The longest client-sent correlation id kept.
const MAX_LEN: usize = 128;

/// The middleware.
pub async fn tag_request(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(common::correlation::HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty()
                && value.len() <= MAX_LEN
                && value.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_owned)
        .unwrap_or_else(common::correlation::new_id);
    let span = tracing::info_span!(
        "request",
        correlation_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        customer_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response =
        common::correlation::scope(id.clone(), next.run(request).instrument(span.clone())).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "handled"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(common::correlation::HEADER, value);
    }
    response
}
