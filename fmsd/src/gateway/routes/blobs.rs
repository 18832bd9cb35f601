//! `/blobs/...`: the signed URLs of the embedded blob store. No token here: the signature is
//! the permission, as with presigned S3 URLs.
//!
//! - `PUT /blobs/parts/{staging}/{n}?expires&signature`: streams one part to disk.
//! - `GET /blobs/files/{key}?expires&signature[&name]`: serves a file, `Range` included.
//!
//! The files service checks the signature and moves the bytes through the `BlobStore` port; when
//! another blob store is in use these URLs do not exist (404).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use common::api::PartStored;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::error::Error;
use crate::files::ports::UrlSignature;
use crate::gateway::error::{ApiError, PathParams, QueryParams};
use crate::gateway::metrics::CountedBody;
use crate::gateway::AppState;

/// The embedded blob store's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/blobs/parts/{staging}/{number}", put(put_part))
        .route("/blobs/files/{key}", get(get_file))
}

/// `?expires=&signature=` (and `&name=` on a download).
#[derive(Debug, Deserialize)]
struct Signed {
    /// Unix seconds after which the URL stops working.
    expires: Option<String>,
    /// HMAC of method, path and expiry.
    signature: Option<String>,
    /// The file name to suggest to a browser; not signed, it only names the download.
    name: Option<String>,
}

impl Signed {
    /// The signature as the request brought it, for the store to check.
    fn signature(&self) -> UrlSignature<'_> {
        UrlSignature {
            expires: self.expires.as_deref(),
            signature: self.signature.as_deref(),
        }
    }
}

async fn put_part(
    State(state): State<AppState>,
    PathParams((staging, number)): PathParams<(String, u32)>,
    QueryParams(signed): QueryParams<Signed>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<PartStored>, ApiError> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
                .ok_or_else(|| Error::Invalid("the Content-Length header is malformed".into()))
        })
        .transpose()?;
    let body = body
        .into_data_stream()
        .inspect_ok(|chunk| crate::metrics::bytes_uploaded(chunk.len()))
        .map_err(std::io::Error::other)
        .boxed();
    let part = state
        .files
        .receive_part(&staging, number, signed.signature(), announced, body)
        .await?;
    Ok(Json(PartStored {
        number: part.number,
        size: part.size,
    }))
}

async fn get_file(
    State(state): State<AppState>,
    PathParams(key): PathParams<String>,
    QueryParams(signed): QueryParams<Signed>,
    request: Request,
) -> Result<Response, ApiError> {
    // HEAD is answered by this GET route and signed as a GET.
    let file = state.files.file_to_serve(&key, signed.signature()).await?;
    // Reads of 1 MiB (the default is 64 KiB): a download goes at the disk's pace, with one
    // chunk in memory per download.
    let serve = ServeFile::new(file).with_buf_chunk_size(1024 * 1024);
    let mut response = match serve.oneshot(request).await {
        Ok(response) => response.map(|body| {
            Body::new(CountedBody::new(
                Body::new(body),
                crate::metrics::bytes_downloaded,
            ))
        }),
        Err(never) => match never {},
    };
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=0"),
    );
    if let Some(disposition) = signed.name.as_deref().and_then(content_disposition) {
        headers.insert(CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// The `Content-Disposition` header for a download named `name`.
fn content_disposition(name: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&crate::files::domain::content_disposition(name)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_content_disposition_never_breaks_the_header() {
        let value = content_disposition("a \"quoted\"\r\nname é.txt").expect("a header");
        let text = value.to_str().expect("a header");
        assert!(
            text.starts_with("attachment; filename=\"a _quoted___name _.txt\""),
            "{text}"
        );
        assert!(
            text.ends_with("filename*=UTF-8''a%20%22quoted%22%0D%0Aname%20%C3%A9.txt"),
            "{text}"
        );
    }
}
