//! A JSON body arrives whole within `gateway.body_timeout_secs`, or the request gets 408: a
//! client that sends its headers and then stalls, or trickles a byte at a time, holds neither
//! its connection nor a handler for longer than that.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::BytesMut;
use futures::StreamExt;

use crate::error::Error;
use crate::gateway::error::ApiError;

/// How long a JSON body may take and how large it may be.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    /// From the end of the headers to the body's last byte.
    pub within: Duration,
    /// Larger bodies are refused with 413 as soon as they pass it.
    pub limit: usize,
}

/// Reads the body whole within the deadline, then hands the request on with it.
pub async fn read_body_within(
    State(deadline): State<BodyDeadline>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = tokio::time::timeout(deadline.within, read_whole(body, deadline.limit))
        .await
        .map_err(|_| {
            Error::TimedOut(format!(
                "the request body did not arrive within {} s",
                deadline.within.as_secs()
            ))
        })??;
    Ok(next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await)
}

/// The body's bytes, at most `limit` of them.
async fn read_whole(body: Body, limit: usize) -> Result<Bytes, Error> {
    let mut stream = body.into_data_stream();
    let mut buffer = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            Error::Invalid(format!("the request body could not be read: {error}"))
        })?;
        if buffer.len() + chunk.len() > limit {
            return Err(Error::TooLarge("the request body is too large".into()));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}
