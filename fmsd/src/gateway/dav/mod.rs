//! WebDAV at `/dav/` (RFC 4918 classes 1 and 2, RFC 4331 quota), so rclone, davfs2, cadaver
//! and the file managers reach a customer's files with no client of ours.
//!
//! `dav-server` speaks the protocol; [`tree::DavTree`] is its file system over the files
//! service (the caller's tree at `/dav/`, items shared with them under `/dav/shared/NAME/`),
//! [`file`] streams bytes in and out as upload sessions and windowed reads, [`props`] keeps
//! dead properties and [`locks`] the locks, both in the files database.
//!
//! Who calls: HTTP Basic whose password is an **app token** (the user name is not looked at;
//! the account password never works here), or `Authorization: Bearer` with an access or app
//! token. A read-scoped token may only read (`GET`, `HEAD`, `OPTIONS`, `PROPFIND`). A Basic
//! attempt with a wrong token counts against the client's login limit (429 with
//! `Retry-After` when it is used up); one that works is given back.

mod file;
mod locks;
mod meta;
mod props;
mod tree;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use base64::Engine;
use dav_server::DavHandler;

use super::auth::{authenticate, Caller};
use super::client::Client;
use super::error::ApiError;
use super::AppState;
use crate::error::Error;

/// Where WebDAV is served.
pub const PREFIX: &str = "/dav";

/// The realm a WebDAV client is asked to log in to.
const REALM: &str = "Basic realm=\"fms (an app token as the password)\", charset=\"UTF-8\"";

/// `/dav` and everything under it, every method.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(PREFIX, any(serve))
        .route(&format!("{PREFIX}/"), any(serve))
        .route(&format!("{PREFIX}/{{*path}}"), any(serve))
}

/// Authenticates the caller and hands the request to `dav-server` over their files.
async fn serve(State(state): State<AppState>, client: Client, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let caller = match caller(&state, &client, &parts.headers, &parts.method).await {
        Ok(caller) => caller,
        Err(Error::Unauthorized(message)) => return ask_to_log_in(message),
        Err(error) => return ApiError(error).into_response(),
    };
    let own = match state.files.in_scope(caller.customer_id, None).await {
        Ok(own) => own,
        Err(Error::Unauthorized(message)) => return ask_to_log_in(message),
        Err(error) => return ApiError(error).into_response(),
    };
    if let Some(refused) = refuse_before_dav(&parts, &client) {
        return refused;
    }
    let props = props::DeadProps::new(state.files.clone());
    let view = tree::DavTree::new(state.files.clone(), caller.customer_id, own, props)
        .deleting(parts.method == axum::http::Method::DELETE);
    let locks = locks::DbLocks::new(state.files.clone(), view.clone());
    let handler = DavHandler::builder()
        .filesystem(Box::new(view))
        .locksystem(Box::new(locks))
        .strip_prefix(PREFIX)
        .principal(caller.customer_id.to_string())
        .read_buf_size(256 * 1024)
        .build_handler();
    handler
        .handle(Request::from_parts(parts, body))
        .await
        .map(Body::new)
        .into_response()
}

/// What RFC 4918 refuses before a request reaches the file system, where `dav-server` answers
/// otherwise: `PROPFIND` with `Depth: infinity` is 403 with `propfind-finite-depth` (a whole
/// tree in one answer is a denial of service), and a `COPY` or `MOVE` whose `Destination` is
/// on another server is 502.
fn refuse_before_dav(parts: &axum::http::request::Parts, client: &Client) -> Option<Response> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let method = parts.method.as_str();
    if method == "PROPFIND"
        && header("depth").is_some_and(|depth| depth.eq_ignore_ascii_case("infinity"))
    {
        let body = r#"<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>"#;
        return Some(
            (
                StatusCode::FORBIDDEN,
                [(
                    axum::http::header::CONTENT_TYPE,
                    "application/xml; charset=utf-8",
                )],
                body,
            )
                .into_response(),
        );
    }
    if matches!(method, "COPY" | "MOVE") {
        let destination = header("destination")?;
        let Ok(url) = url::Url::parse(destination) else {
            return None; // a path alone: on this server
        };
        let authority = |url: &url::Url| {
            url.host_str()
                .map(|host| format!("{host}:{}", url.port_or_known_default().unwrap_or(0)))
        };
        let reached = url::Url::parse(&client.base())
            .ok()
            .and_then(|base| authority(&base));
        let host = header("host")
            .and_then(|host| url::Url::parse(&format!("{}://{host}", url.scheme())).ok());
        let here = [reached, host.as_ref().and_then(authority)];
        if !here.contains(&authority(&url)) {
            let mut response = ApiError(Error::Invalid(format!(
                "the Destination {destination} is on another server; fmsd copies and moves \
                 within itself only"
            )))
            .into_response();
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            return Some(response);
        }
    }
    None
}

/// The caller, from Basic (an app token as the password) or a bearer token.
async fn caller(
    state: &AppState,
    client: &Client,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Caller, Error> {
    let header = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| Error::Unauthorized("WebDAV needs an app token as the password".into()))?
        .to_str()
        .map_err(|_| Error::Unauthorized("the Authorization header must be text".into()))?;
    let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return authenticate(state, value.trim(), method).await;
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(Error::Unauthorized(
            "WebDAV takes HTTP Basic with an app token as the password".into(),
        ));
    }
    let password = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(_, password)| password.to_owned())
        })
        .ok_or_else(|| Error::Unauthorized("the Basic credentials are not user:password".into()))?;
    let guess = state.limiter.token_guess(client.ip).await?;
    if !crate::customers::service::is_app_token(&password) {
        guess.wrong();
        return Err(Error::Unauthorized(
            "the password must be an app token (`fmsctl token create NAME`); the account \
             password never works over WebDAV"
                .into(),
        ));
    }
    match authenticate(state, &password, method).await {
        Err(Error::Unauthorized(message)) => {
            guess.wrong();
            Err(Error::Unauthorized(message))
        }
        other => {
            guess.right().await;
            other
        }
    }
}

/// 401 with the challenge a WebDAV client answers with its credentials.
fn ask_to_log_in(message: String) -> Response {
    let mut response = ApiError(Error::Unauthorized(message)).into_response();
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(REALM));
    response
}
