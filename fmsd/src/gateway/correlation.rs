//! Tags every request with a correlation id and its [`Client`](super::client::Client), and logs one line per request:
//! client IP, method, route, path, status, duration, bytes in and out, correlation id.
//!
//! A client-sent `x-correlation-id` is kept when it is short and printable, so a trace can start
//! at the client; otherwise one is made. The id is in every log line of the request, in the
//! envelope of every event it causes, and in the answer's headers.
//!
//! A link's token in the path (`/s/{token}/...`) is a working link, so the log never shows it:
//! the path is logged with `sha256:` and the first 12 hex digits of the token's SHA-256 instead
//! (the start of the hash the links table keeps), and the link's id once it is opened.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use super::client::Forwarding;

/// The longest client-sent correlation id kept.
const MAX_LEN: usize = 128;

/// The middleware.
pub async fn tag_request(
    State(forwarding): State<Forwarding>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |info| info.0.ip());
    let client = forwarding.client(peer, request.headers());
    let client_ip = client.ip;
    request.extensions_mut().insert(client);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let bytes_in = content_length(request.headers());
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
        client_ip = %client_ip,
        method = %request.method(),
        route = %route,
        path = %loggable_path(request.uri().path()),
        customer_id = tracing::field::Empty,
        link_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response =
        common::correlation::scope(id.clone(), next.run(request).instrument(span.clone())).await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            bytes_in,
            bytes_out = response.body().size_hint().exact(),
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

/// The `Content-Length` of a request, if it says one.
fn content_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
}

/// Hex digits of the token's hash that stand for it in the log: enough to find the link, far
/// too few to be one.
const TOKEN_HASH_DIGITS: usize = 12;

/// `path` with a link's token replaced by the start of its SHA-256.
fn loggable_path(path: &str) -> Cow<'_, str> {
    let Some(rest) = path.strip_prefix("/s/") else {
        return Cow::Borrowed(path);
    };
    let (token, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    Cow::Owned(format!("/s/sha256:{}{tail}", &hash[..TOKEN_HASH_DIGITS]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_token_is_logged_as_the_start_of_its_hash() {
        let token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        assert_eq!(
            loggable_path(&format!("/s/{token}/uploads/1/complete")),
            format!("/s/sha256:{}/uploads/1/complete", &hash[..12])
        );
        assert_eq!(
            loggable_path(&format!("/s/{token}")),
            format!("/s/sha256:{}", &hash[..12])
        );
        assert_eq!(loggable_path("/v1/files"), "/v1/files");
        assert_eq!(loggable_path("/sx/abc"), "/sx/abc");
    }
}
