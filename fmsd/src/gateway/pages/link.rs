//! What a browser sees at `/s/{token}`: the link's page, the password form and what it posts,
//! the Download button's redirect, and the error pages, all opened the way the JSON API opens
//! a link (the same checks, the same limits on wrong passwords).

use axum::http::header::{LOCATION, REFERRER_POLICY, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{error_page, nonce, page, page_with, views};
use crate::error::Error;
use crate::files::domain::{LinkMode, LinkToken, PageLimit, RemotePath};
use crate::files::service::OpenLink;
use crate::gateway::client::Client;
use crate::gateway::error::ApiError;
use crate::gateway::routes::files::listing;
use crate::gateway::routes::public_links::{open, open_with};
use crate::gateway::AppState;

/// Entries on one page of a folder; more are a "More" link away.
const PAGE_ENTRIES: u32 = 200;

/// The answer to a request that failed: a page for a browser (the password form when the
/// link wants its password), the JSON error for a program.
pub fn failure(html: bool, token: &str, error: Error) -> Response {
    match error {
        error if !html => ApiError(error).into_response(),
        Error::Unauthorized(_) => password_form(token, None),
        error => error_page(error),
    }
}

/// The password form, with `error` after a wrong guess.
fn password_form(token: &str, error: Option<&str>) -> Response {
    let nonce = nonce();
    page(
        StatusCode::UNAUTHORIZED,
        &nonce,
        views::password_page(&nonce, token, error),
    )
}

/// `GET /s/{token}` for a browser.
pub async fn show(state: &AppState, client: &Client, token: &str, headers: &HeaderMap) -> Response {
    let result = async {
        let open = open(state, token, headers, client.ip).await?;
        let nonce = nonce();
        let markup = match open.link.mode {
            LinkMode::Download if open.node.is_folder() => {
                return folder(state, token, &open, "/", None).await;
            }
            LinkMode::Download => views::file_page(&nonce, token, &open),
            LinkMode::Upload => {
                let markup = views::upload_page(&nonce, token, &open);
                let origin = state.upload_origin.as_deref();
                return Ok(page_with(StatusCode::OK, &nonce, origin, markup));
            }
        };
        Ok(page(StatusCode::OK, &nonce, markup))
    }
    .await;
    result.unwrap_or_else(|error| failure(true, token, error))
}

/// `GET /s/{token}/browse?path=&cursor=`: a folder inside a folder link.
pub async fn browse(
    state: &AppState,
    client: &Client,
    token: &str,
    headers: &HeaderMap,
    path: Option<&str>,
    cursor: Option<&str>,
) -> Response {
    let result = async {
        let open = open(state, token, headers, client.ip).await?;
        folder(state, token, &open, path.unwrap_or("/"), cursor).await
    }
    .await;
    result.unwrap_or_else(|error| failure(true, token, error))
}

/// The page of the folder at `path` inside the link's folder.
async fn folder(
    state: &AppState,
    token: &str,
    open: &OpenLink,
    path: &str,
    cursor: Option<&str>,
) -> Result<Response, Error> {
    let path = RemotePath::parse(path)?;
    let limit = PageLimit::parse(Some(PAGE_ENTRIES))?;
    let page_of = state.files.link_listing(open, &path, cursor, limit).await?;
    let listing = listing(&open.scope(), &page_of);
    let nonce = nonce();
    Ok(page(
        StatusCode::OK,
        &nonce,
        views::folder_page(&nonce, token, open, &listing),
    ))
}

/// `POST /s/{token}` with the form's `password`: right, it sets the unlock cookie and sends the
/// browser back to the link (303); wrong, the form again with the error (401); too many wrong
/// ones, 429 with `Retry-After`.
pub async fn unlock(
    state: &AppState,
    client: &Client,
    token: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let html = super::wants_html(headers);
    let password = url::form_urlencoded::parse(body)
        .find(|(name, _)| name == "password")
        .map(|(_, value)| value.into_owned());
    let Some(password) = password.filter(|password| !password.is_empty()) else {
        let error = Error::Invalid("send the link's password in the form field `password`".into());
        return match html {
            true => password_form(token, Some("Enter the password.")),
            false => ApiError(error).into_response(),
        };
    };
    match open_with(state, token, Some(password), client.ip).await {
        Ok(_) => {
            let Ok(parsed) = LinkToken::parse(token) else {
                return failure(html, token, Error::NotFound("no such link".into()));
            };
            let mut response = see_other(&format!("/s/{token}"));
            response.headers_mut().insert(
                SET_COOKIE,
                state.unlocks.cookie(&parsed, client, state.clock.now()),
            );
            response
        }
        Err(Error::Unauthorized(_)) if html => {
            password_form(token, Some("That password is not right. Try again."))
        }
        Err(error) => failure(html, token, error),
    }
}

/// `GET /s/{token}/download[?path=]`: counts one download and sends the browser to the
/// short-lived signed URL (303), whose answer names the file (`Content-Disposition:
/// attachment`). A `HEAD` checks the link and counts nothing.
pub async fn download(
    state: &AppState,
    client: &Client,
    token: &str,
    headers: &HeaderMap,
    path: Option<&str>,
    head: bool,
) -> Response {
    let html = super::wants_html(headers);
    let result = async {
        let path = path.map(RemotePath::parse).transpose()?;
        let open = open(state, token, headers, client.ip).await?;
        if head {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        let ticket = state.files.link_download(&open, path.as_ref()).await?;
        Ok::<_, Error>(see_other(&client.url(ticket.url)))
    }
    .await;
    result.unwrap_or_else(|error| failure(html, token, error))
}

/// 303 to `location`.
fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(LOCATION, value);
    }
    // The next request, to the blob store perhaps, must not learn the link from `Referer`.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
