//! The web pages of links, for people with a browser: `/s/{token}` answers HTML to a request
//! that asks for it (`Accept: text/html` over `application/json`) and JSON to programs, and
//! `GET /s/{token}/download` is the plain Download button.
//!
//! Every page is made here and answered with the same headers: a strict
//! `Content-Security-Policy` (nothing loads but fmsd's own stylesheet and the scripts carrying
//! the response's nonce; no framing, no form posts elsewhere, no `<base>`),
//! `Referrer-Policy: no-referrer` (the token is in the URL), and `Cache-Control: no-store`.
//! The stylesheet and scripts are compiled into the binary ([`assets`]). A folder link's page
//! browses into its sub-folders (`/s/{token}/browse?path=`) and sends the whole folder as one
//! zip ([`archive`]). The pages a mailed code opens (verify an address, reset a password) are
//! in [`account`].

pub mod account;
pub mod archive;
pub mod assets;
pub mod link;
pub mod unlock;
pub mod views;

use axum::extract::State;
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use maud::Markup;
use rand::RngCore;
use serde::Deserialize;

use crate::error::Error;
use crate::gateway::client::Client;
use crate::gateway::error::{PathParams, QueryParams};
use crate::gateway::AppState;

/// The page routes outside the JSON API (so outside the OpenAPI document): the assets, a folder
/// link's sub-folders and its zip, the account pages.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(assets::router())
        .merge(account::router())
        .route("/s/{token}/browse", get(browse))
        .route("/s/{token}/zip", get(zip))
}

/// `?path=&cursor=` of the page routes.
#[derive(Debug, Deserialize)]
struct PageQuery {
    /// A path inside the link's folder.
    path: Option<String>,
    /// The previous page's cursor.
    cursor: Option<String>,
}

async fn browse(
    State(state): State<AppState>,
    client: Client,
    PathParams(token): PathParams<String>,
    QueryParams(query): QueryParams<PageQuery>,
    headers: HeaderMap,
) -> Response {
    link::browse(
        &state,
        &client,
        &token,
        &headers,
        query.path.as_deref(),
        query.cursor.as_deref(),
    )
    .await
}

async fn zip(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    PathParams(token): PathParams<String>,
    QueryParams(query): QueryParams<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let head = method == Method::HEAD;
    archive::zip(
        &state,
        &client,
        &token,
        &headers,
        query.path.as_deref(),
        head,
    )
    .await
}

/// Whether a request asked for a web page: its `Accept` names `text/html` and ranks it at
/// least as high as `application/json`. Programs that send no `Accept`, `*/*` or JSON get
/// JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let (mut html, mut json) = (0.0_f32, 0.0_f32);
    for value in headers.get_all(ACCEPT).iter() {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "text/html" => html = html.max(quality),
                "application/json" => json = json.max(quality),
                _ => {}
            }
        }
    }
    html > 0.0 && html >= json
}

/// A fresh nonce for one response's scripts: 128 random bits.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

/// The policy of a page whose scripts carry `nonce`. Part uploads may go to fmsd itself
/// (`'self'`) or to the blob store's `upload_origin`.
fn content_security_policy(nonce: &str, upload_origin: Option<&str>) -> String {
    let connect = upload_origin.map_or_else(|| "'self'".to_owned(), |o| format!("'self' {o}"));
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self'; \
         connect-src {connect}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The headers every page carries.
fn page_headers(headers: &mut HeaderMap, nonce: &str, upload_origin: Option<&str>) {
    let policy = content_security_policy(nonce, upload_origin);
    let named = [
        (CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
        (HeaderName::from_static("content-security-policy"), policy),
        (
            HeaderName::from_static("referrer-policy"),
            "no-referrer".to_owned(),
        ),
        (
            HeaderName::from_static("x-frame-options"),
            "DENY".to_owned(),
        ),
        (CACHE_CONTROL, "no-store".to_owned()),
    ];
    for (name, value) in named {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// `markup` as a page with `status`, its scripts allowed by `nonce`.
pub fn page(status: StatusCode, nonce: &str, markup: Markup) -> Response {
    page_with(status, nonce, None, markup)
}

/// [`page`], whose script may also send to `upload_origin`.
pub fn page_with(
    status: StatusCode,
    nonce: &str,
    upload_origin: Option<&str>,
    markup: Markup,
) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    page_headers(response.headers_mut(), nonce, upload_origin);
    response
}

/// The page for an error: a link that is unknown and one that was revoked look the same (404),
/// an expired or used-up one says so (410), too many guesses say how long to wait (429).
pub fn error_page(error: Error) -> Response {
    let nonce = nonce();
    let message = sentence(&error.to_string());
    let (status, title, message) = match &error {
        Error::NotFound(_) => (
            StatusCode::NOT_FOUND,
            "This link does not work",
            "It may have been revoked, or its address is not complete. Ask whoever shared it \
             for a new one."
                .to_owned(),
        ),
        Error::Gone(_) => (
            StatusCode::GONE,
            "This link has ended",
            format!("{message} Ask whoever shared it for a new one."),
        ),
        Error::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            format!(
                "Too many wrong passwords were tried for this link or from your network. \
                 Wait {} and try again.",
                wait(retry_after.as_secs())
            ),
        ),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "Not possible here", message),
        Error::Conflict(_) => (StatusCode::CONFLICT, "Not possible here", message),
        Error::Invalid(_) => (StatusCode::BAD_REQUEST, "That did not work", message),
        Error::Unauthorized(_) => (
            StatusCode::UNAUTHORIZED,
            "This link needs a password",
            message,
        ),
        Error::Unavailable(_) | Error::Internal(_) | Error::InsufficientStorage(_) => {
            tracing::error!(error = %error.report(), "request failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Something went wrong",
                "This is our fault, not yours. Try again in a minute.".to_owned(),
            )
        }
        _ => (StatusCode::BAD_REQUEST, "That did not work", message),
    };
    let mut response = page(status, &nonce, views::message_page(&nonce, title, &message));
    if let Error::RateLimited { retry_after } = &error {
        let seconds = retry_after.as_secs_f64().ceil().max(1.0) as u64;
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A service message (`this link expired at …`) as a sentence: capital first, full stop last.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut sentence: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// `seconds` as a person reads a wait: `a minute`, `40 seconds`.
fn wait(seconds: u64) -> String {
    match seconds {
        0 | 1 => "a second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn browsers_get_html_and_programs_json() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                        image/webp,image/apng,*/*;q=0.8";
        assert!(wants_html(&accept(chromium)));
        assert!(wants_html(&accept("text/html")));
        assert!(!wants_html(&HeaderMap::new()));
        assert!(!wants_html(&accept("*/*")));
        assert!(!wants_html(&accept("application/json")));
        assert!(!wants_html(&accept("application/json, text/html;q=0.5")));
        assert!(!wants_html(&accept("text/html;q=0")));
    }

    #[test]
    fn messages_become_sentences_and_waits_read_well() {
        assert_eq!(
            sentence("this link has no downloads left"),
            "This link has no downloads left."
        );
        assert_eq!(wait(1), "a second");
        assert_eq!(wait(42), "42 seconds");
        assert_eq!(wait(61), "a minute");
        assert_eq!(wait(600), "10 minutes");
    }
}
