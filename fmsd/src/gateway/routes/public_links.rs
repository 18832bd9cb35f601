//! `/s/{token}`: what a link leads to, without login. Its password, if it has one, comes in
//! the `x-fms-link-password` header of every request, or once through the password form of its
//! web page, which sets a cookie (`gateway::pages`); wrong guesses are limited per link and
//! per client IP. A browser asking for `text/html` gets the pages, a program JSON.
//!
//! Paths in and out are relative to the link's item; the files service redacts its errors, so
//! no answer shows where the item lives in its owner's tree. An upload through a file request
//! is answered without a path, so the uploader does not learn which names the folder holds.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use common::api::{
    CompleteUploadRequest, DownloadLink, ErrorBody, LinkDownloadRequest, LinkUploadRequest,
    LinkUploadSession, Listing, PublicLink, ReceivedFile, LINK_PASSWORD_HEADER,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::files::{download_link, entry_kind, listing};
use super::links::link_mode;
use super::uploads::{complete_request, optional_json, parts};
use crate::error::Error;
use crate::files::domain::{LinkToken, PageLimit, RemotePath, Sha256Hex};
use crate::files::service::{OpenLink, UploadView};
use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody, PathParams, QueryParams};
use crate::gateway::{pages, AppState};

/// The public link routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show, unlock))
        .routes(routes!(list))
        .routes(routes!(download, download_redirect))
        .routes(routes!(create_upload))
        .routes(routes!(show_upload))
        .routes(routes!(complete_upload))
}

/// Opens the link `token` for a request: with the password its `x-fms-link-password` header
/// carries, or, without one, a browser's unlock cookie (see [`pages::unlock`]).
pub(crate) async fn open(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    client: IpAddr,
) -> Result<OpenLink, Error> {
    let password = headers
        .get(LINK_PASSWORD_HEADER)
        .map(|value| {
            value.to_str().map(str::to_owned).map_err(|_| {
                Error::Invalid(format!("the {LINK_PASSWORD_HEADER} header must be text"))
            })
        })
        .transpose()?;
    if password.is_none() && state.unlocks.unlocked(token, headers, state.clock.now()) {
        let open = state.files.open_unlocked_link(token).await?;
        return living(state, open);
    }
    open_with(state, token, password, client).await
}

/// Opens the link `token` with `password`, counting a wrong one against the link and the
/// client. The guess is reserved before the password is checked, so guesses sent at once
/// cannot all slip in before the first is counted.
pub(crate) async fn open_with(
    state: &AppState,
    token: &str,
    password: Option<String>,
    client: IpAddr,
) -> Result<OpenLink, Error> {
    let key = LinkToken::parse(token)
        .map(|token| token.hash())
        .unwrap_or_default();
    let guess = match password {
        Some(_) => Some(state.limiter.link_password(&key, client).await?),
        None => None,
    };
    let opened = state.files.open_link(token, password).await;
    match (guess, &opened) {
        (Some(guess), Err(Error::Unauthorized(_))) => guess.wrong(),
        (Some(guess), _) => guess.right().await,
        (None, _) => {}
    }
    living(state, opened?)
}

/// `open`, unless its owner's account was deleted: a deleted owner's links end with the
/// account, before the files service purges it.
fn living(state: &AppState, open: OpenLink) -> Result<OpenLink, Error> {
    tracing::Span::current().record("link_id", tracing::field::display(open.link.id));
    if state.customers.is_deleted(open.link.owner) {
        return Err(Error::NotFound(
            "there is no such link (it may have been revoked)".into(),
        ));
    }
    Ok(open)
}

/// What the link leads to: JSON, or the link's web page for a request whose `Accept` prefers
/// `text/html` (a password-protected link shows its password form, answered 401).
#[utoipa::path(
    get,
    path = "/s/{token}",
    operation_id = "show_link",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token")),
    responses(
        (status = 200, description = "The item; its web page for `Accept: text/html`", content(
            (PublicLink = "application/json"),
            (String = "text/html"),
        )),
    )
)]
async fn show(
    State(state): State<AppState>,
    client: Client,
    PathParams(token): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if pages::wants_html(&headers) {
        return Ok(pages::link::show(&state, &client, &token, &headers).await);
    }
    let open = open(&state, &token, &headers, client.ip).await?;
    let node = &open.node;
    Ok(Json(PublicLink {
        name: node.path.name().to_owned(),
        kind: entry_kind(node),
        mode: link_mode(open.link.mode),
        size: node.size,
        sha256: node.sha256.as_ref().map(|sha| sha.as_str().to_owned()),
        owner_name: open.owner_name.clone(),
        expires_at: open.link.expires_at,
        downloads_left: open.downloads_left(),
    })
    .into_response())
}

/// The password form's fields.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(dead_code)] // The schema of the form; the handler reads the body itself.
struct UnlockForm {
    /// The link's password.
    #[schema(min_length = 1)]
    password: String,
}

/// The password form of a protected link: the right password sets a short-lived cookie for this
/// link (`HttpOnly`, `SameSite=Strict`, `Path=/s/{token}`) and answers 303 to the link, so a
/// browser needs no password header. A wrong one counts like a wrong header; a browser gets
/// the form again.
#[utoipa::path(
    post,
    path = "/s/{token}",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token")),
    request_body(content = UnlockForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Unlocked: back to the link, with the cookie", headers(
            ("Location" = String, description = "The link"),
            ("Set-Cookie" = String, description = "The unlock cookie"),
        )),
        (status = 429, description = "Too many wrong passwords for this link or from this IP (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn unlock(
    State(state): State<AppState>,
    client: Client,
    PathParams(token): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    pages::link::unlock(&state, &client, &token, &headers, &body).await
}

/// `?path=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// For a folder link: the file, relative to the folder (`/a.txt`).
    #[param(schema_with = common::api::schemas::optional_path)]
    path: Option<String>,
}

/// The Download button: counts one download and answers 303 to the signed, short-lived URL,
/// which serves the file as an attachment under its name. `HEAD` counts nothing.
#[utoipa::path(
    get,
    path = "/s/{token}/download",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token"), DownloadQuery),
    responses(
        (status = 303, description = "Where the file is", headers(
            ("Location" = String, description = "The signed URL"),
        )),
        (status = 403, description = "The link does not allow downloads (a file request) (`forbidden`)", body = ErrorBody),
        (status = 409, description = "The path is a folder, or a path for a file link (`conflict`)", body = ErrorBody),
    )
)]
async fn download_redirect(
    State(state): State<AppState>,
    client: Client,
    method: Method,
    PathParams(token): PathParams<String>,
    QueryParams(query): QueryParams<DownloadQuery>,
    headers: HeaderMap,
) -> Response {
    let head = method == Method::HEAD;
    pages::link::download(
        &state,
        &client,
        &token,
        &headers,
        query.path.as_deref(),
        head,
    )
    .await
}

/// `?path=&cursor=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The folder inside the link's folder; the link's folder when absent.
    #[param(schema_with = common::api::schemas::optional_path)]
    path: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(schema_with = common::api::schemas::optional_cursor)]
    cursor: Option<String>,
    /// Entries per page.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// One page of a folder inside a download link's folder, with download links.
#[utoipa::path(
    get,
    path = "/s/{token}/files",
    operation_id = "list_link_files",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token"), ListQuery),
    responses(
        (status = 200, description = "The page", body = Listing),
        (status = 403, description = "The link does not allow listing (a file request) (`forbidden`)", body = ErrorBody),
        (status = 409, description = "The link or the path is a file (`conflict`)", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    client: Client,
    PathParams(token): PathParams<String>,
    QueryParams(query): QueryParams<ListQuery>,
    headers: HeaderMap,
) -> Result<Json<Listing>, ApiError> {
    let open = open(&state, &token, &headers, client.ip).await?;
    let path = RemotePath::parse(query.path.as_deref().unwrap_or("/"))?;
    let limit = PageLimit::parse(query.limit)?;
    let page = state
        .files
        .link_listing(&open, &path, query.cursor.as_deref(), limit)
        .await?;
    Ok(Json(listing(&open.scope(), &page)))
}

/// A signed, expiring URL for the link's file (or a file in its folder); counts one download.
#[utoipa::path(
    post,
    path = "/s/{token}/download",
    operation_id = "link_download",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token")),
    request_body(content = LinkDownloadRequest, description = "Optional: the file inside a folder link"),
    responses(
        (status = 200, description = "Where to fetch it", body = DownloadLink),
        (status = 403, description = "The link does not allow downloads (a file request) (`forbidden`)", body = ErrorBody),
        (status = 409, description = "The path is a folder, or a path for a file link (`conflict`)", body = ErrorBody),
    )
)]
async fn download(
    State(state): State<AppState>,
    client: Client,
    PathParams(token): PathParams<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<DownloadLink>, ApiError> {
    let request: LinkDownloadRequest = optional_json(&body)?;
    let path = request.path.as_deref().map(RemotePath::parse).transpose()?;
    let open = open(&state, &token, &headers, client.ip).await?;
    let ticket = state.files.link_download(&open, path.as_ref()).await?;
    Ok(Json(download_link(&client, ticket)))
}

/// A file request's session as the uploader sees it: no path, so not the name it will take.
fn link_session(client: &Client, view: UploadView) -> LinkUploadSession {
    let upload = view.upload;
    LinkUploadSession {
        upload_id: upload.id,
        size: upload.size,
        sha256: upload.sha256.map(|sha| sha.as_str().to_owned()),
        part_size: upload.part_size,
        parts: parts(client, view.parts),
        urls_expire_at: view.urls_expire_at,
        expires_at: upload.expires_at,
    }
}

/// Start an upload into a file request.
#[utoipa::path(
    post,
    path = "/s/{token}/uploads",
    operation_id = "create_link_upload",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token")),
    request_body = LinkUploadRequest,
    responses(
        (status = 201, description = "A new session", body = LinkUploadSession),
        (status = 403, description = "The link is not a file request (`forbidden`)", body = ErrorBody),
        (status = 409, description = "The link's folder is gone, or too many files of that name arrived already (`conflict`)", body = ErrorBody),
        (status = 413, description = "The owner's quota would be exceeded (`quota_exceeded`), or the file needs more than 10,000 parts, or the body is too large (`payload_too_large`)", body = ErrorBody),
        (status = 507, description = "The server's disk is full (`insufficient_storage`)", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords for this link or from this IP, or the link holds as many unfinished uploads as it may (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn create_upload(
    State(state): State<AppState>,
    client: Client,
    PathParams(token): PathParams<String>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<LinkUploadRequest>,
) -> Result<(StatusCode, Json<LinkUploadSession>), ApiError> {
    let sha256 = request
        .sha256
        .as_deref()
        .map(Sha256Hex::parse)
        .transpose()?;
    let open = open(&state, &token, &headers, client.ip).await?;
    let view = state
        .files
        .link_create_upload(&open, &request.name, request.size, sha256)
        .await?;
    Ok((StatusCode::CREATED, Json(link_session(&client, view))))
}

/// A file request's upload session, with fresh part URLs.
#[utoipa::path(
    get,
    path = "/s/{token}/uploads/{id}",
    operation_id = "show_link_upload",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token"), ("id" = Uuid, Path, description = "The upload's id")),
    responses(
        (status = 200, description = "The session", body = LinkUploadSession),
        (status = 403, description = "The link is not a file request (`forbidden`)", body = ErrorBody),
    )
)]
async fn show_upload(
    State(state): State<AppState>,
    client: Client,
    PathParams((token, id)): PathParams<(String, Uuid)>,
    headers: HeaderMap,
) -> Result<Json<LinkUploadSession>, ApiError> {
    let open = open(&state, &token, &headers, client.ip).await?;
    let view = state.files.link_upload(&open, id).await?;
    Ok(Json(link_session(&client, view)))
}

/// Complete a file request's upload. The body may be left out.
#[utoipa::path(
    post,
    path = "/s/{token}/uploads/{id}/complete",
    operation_id = "complete_link_upload",
    tag = "public links",
    params(("token" = String, Path, description = "The link's token"), ("id" = Uuid, Path, description = "The upload's id")),
    request_body(content = CompleteUploadRequest, description = "Optional: the client's SHA-256"),
    responses(
        (status = 200, description = "Received", body = ReceivedFile),
        (status = 403, description = "The link is not a file request (`forbidden`)", body = ErrorBody),
        (status = 409, description = "Parts are missing (`conflict`)", body = ErrorBody),
        (status = 422, description = "The bytes do not match the size or checksum (`integrity`)", body = ErrorBody),
        (status = 507, description = "The server's disk is full (`insufficient_storage`)", body = ErrorBody),
    )
)]
async fn complete_upload(
    State(state): State<AppState>,
    client: Client,
    PathParams((token, id)): PathParams<(String, Uuid)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReceivedFile>, ApiError> {
    let sha256 = complete_request(&body)?;
    let open = open(&state, &token, &headers, client.ip).await?;
    let node = state.files.link_complete_upload(&open, id, sha256).await?;
    Ok(Json(ReceivedFile {
        size: node.size,
        sha256: node
            .sha256
            .map(|sha| sha.as_str().to_owned())
            .unwrap_or_default(),
        received_at: node.modified_at,
    }))
}
