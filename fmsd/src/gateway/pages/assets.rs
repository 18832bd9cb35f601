//! The pages' stylesheet and scripts, compiled into the binary and served from `/assets/`, so a
//! page loads nothing from anywhere else and fmsd needs no files beside it.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::gateway::AppState;

/// Every asset: its name under `/assets/`, its media type and its text.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "account.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/account.js"),
    ),
    (
        "page.css",
        "text/css; charset=utf-8",
        include_str!("assets/page.css"),
    ),
    (
        "sha256.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/sha256.js"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/upload.js"),
    ),
];

/// `GET /assets/{name}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{name}", get(asset))
}

async fn asset(Path(name): Path<String>) -> Response {
    let Some((_, media_type, text)) = ASSETS.iter().find(|(known, _, _)| *known == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut response = (*text).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(media_type));
    // The same binary serves the same bytes; an upgrade may change them within the hour.
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}
