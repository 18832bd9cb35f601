//! `/v1/uploads`: create or resume an upload session, see it with fresh part URLs, complete it,
//! abort it. The parts themselves go to the URLs in the session (for the embedded blob store,
//! `routes::blobs`).
//!
//! With `share=<id>` a session is started, seen and ended inside a share, through a
//! [`ScopedFiles`]: a recipient reaches only the sessions started through their share. In one's
//! own tree, `GET /v1/uploads` lists every session that holds one's quota (those a share's
//! editor or a link's visitor started too), and any of them can be seen and ended.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::Json;
use common::api::{
    self, CompleteUploadRequest, CreateUploadRequest, Entry, ErrorBody, Overwrite, PartUrls,
    PartUrlsRequest, UploadList, UploadPart, UploadSession,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::files::scoped_entry;
use crate::error::Error;
use crate::files::domain::{OverwritePolicy, RemotePath, Sha256Hex};
use crate::files::service::{
    HeldUpload, NewUpload, PartView, Scope, ScopedFiles, StartedThrough, UploadView,
};
use crate::gateway::client::Client;
use crate::gateway::error::{from_object, ApiError, JsonBody, PathParams};
use crate::gateway::scope::ShareQuery;
use crate::gateway::AppState;

/// The upload-session routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, abort))
        .routes(routes!(complete))
        .routes(routes!(part_urls))
}

/// A session as the API shows it to a caller working in `scope` (paths relative to it).
pub fn session(client: &Client, scope: &Scope, view: UploadView) -> UploadSession {
    let upload = view.upload;
    UploadSession {
        upload_id: upload.id,
        path: scope
            .relative(&upload.path)
            .unwrap_or_else(RemotePath::root)
            .to_string(),
        size: upload.size,
        sha256: upload.sha256.map(|sha| sha.as_str().to_owned()),
        part_size: upload.part_size,
        parts: parts(client, view.parts),
        urls_expire_at: view.urls_expire_at,
        expires_at: upload.expires_at,
        part_checksums: view.part_checksums,
    }
}

/// What the service is asked for `request`, to `path` (parsed from it).
pub fn new_upload<'a>(path: &'a RemotePath, request: &'a CreateUploadRequest) -> NewUpload<'a> {
    NewUpload {
        path,
        size: request.size,
        sha256: request.sha256.as_deref(),
        overwrite: match request.overwrite {
            Overwrite::Fail => OverwritePolicy::Fail,
            Overwrite::Replace => OverwritePolicy::Replace,
        },
        part_headers: request.part_headers,
    }
}

/// A session's parts as the API shows them, their URLs as `client` reaches fmsd.
pub fn parts(client: &Client, parts: Vec<PartView>) -> Vec<UploadPart> {
    parts
        .into_iter()
        .map(|part| UploadPart {
            number: part.number,
            offset: part.offset,
            size: part.size,
            stored: part.stored,
            url: client.url(part.url),
            headers: part.headers.into_iter().collect(),
        })
        .collect()
}

/// Start an upload session, or resume the unfinished one for the same path, size and checksum.
#[utoipa::path(
    post,
    path = "/v1/uploads",
    operation_id = "create_upload",
    tag = "uploads",
    security(("bearer" = [])),
    params(ShareQuery),
    request_body = CreateUploadRequest,
    responses(
        (status = 201, description = "A new session", body = UploadSession),
        (status = 200, description = "The unfinished session, resumed", body = UploadSession),
        (status = 403, description = "The share is read-only (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The folder is missing, or no such share for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "A file is there and `overwrite` is `fail`, or a folder is (`conflict`)", body = ErrorBody),
        (status = 413, description = "The quota would be exceeded (`quota_exceeded`), or the file needs more than 10,000 parts, or the body is too large (`payload_too_large`)", body = ErrorBody),
        (status = 507, description = "The server's disk is full (`insufficient_storage`)", body = ErrorBody),
    )
)]
async fn create(
    tree: ScopedFiles,
    client: Client,
    JsonBody(request): JsonBody<CreateUploadRequest>,
) -> Result<(StatusCode, Json<UploadSession>), ApiError> {
    let path = RemotePath::parse(&request.path)?;
    let (view, resumed) = tree.create_upload(new_upload(&path, &request)).await?;
    let status = if resumed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(session(&client, tree.scope(), view))))
}

/// The open sessions that hold the caller's quota (in a share, those started through it).
#[utoipa::path(
    get,
    path = "/v1/uploads",
    operation_id = "list_uploads",
    tag = "uploads",
    security(("bearer" = [])),
    params(ShareQuery),
    responses(
        (status = 200, description = "The sessions, oldest first", body = UploadList),
        (status = 404, description = "No such share for the caller (`not_found`)", body = ErrorBody),
    )
)]
async fn list(tree: ScopedFiles) -> Result<Json<UploadList>, ApiError> {
    let scope = tree.scope();
    let uploads = tree
        .held_uploads()
        .await?
        .into_iter()
        .map(|held| held_upload(scope, held))
        .collect();
    Ok(Json(UploadList { uploads }))
}

/// A listed session as the API shows it to a caller working in `scope`.
fn held_upload(scope: &Scope, held: HeldUpload) -> api::HeldUpload {
    let (started_through, grant_id) = match held.through {
        StartedThrough::Owner => (api::StartedThrough::Owner, None),
        StartedThrough::Share(id) => (api::StartedThrough::Share, Some(id)),
        StartedThrough::Link(id) => (api::StartedThrough::Link, Some(id)),
        StartedThrough::Revoked(id) => (api::StartedThrough::Revoked, Some(id)),
    };
    let upload = held.upload;
    api::HeldUpload {
        upload_id: upload.id,
        path: scope
            .relative(&upload.path)
            .unwrap_or_else(RemotePath::root)
            .to_string(),
        size: upload.size,
        created_at: upload.created_at,
        expires_at: upload.expires_at,
        started_through,
        grant_id,
    }
}

/// A session, with fresh part URLs.
#[utoipa::path(
    get,
    path = "/v1/uploads/{id}",
    operation_id = "show_upload",
    tag = "uploads",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The upload's id"), ShareQuery),
    responses(
        (status = 200, description = "The session", body = UploadSession),
        (status = 404, description = "No such session for the caller (`not_found`)", body = ErrorBody),
    )
)]
async fn show(
    tree: ScopedFiles,
    client: Client,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<UploadSession>, ApiError> {
    let view = tree.upload(id).await?;
    Ok(Json(session(&client, tree.scope(), view)))
}

/// URLs for parts whose SHA-256 the client computed, signing each checksum where the blob store
/// checks it (the session says `part_checksums`): a part whose bytes do not match is refused.
#[utoipa::path(
    post,
    path = "/v1/uploads/{id}/parts",
    tag = "uploads",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The upload's id"), ShareQuery),
    request_body = PartUrlsRequest,
    responses(
        (status = 200, description = "The parts' URLs, in the order asked", body = PartUrls),
        (status = 400, description = "A malformed SHA-256, or more than 100 parts (`invalid`)", body = ErrorBody),
        (status = 403, description = "The share is read-only (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such session for the caller, or no such part in it (`not_found`)", body = ErrorBody),
    )
)]
async fn part_urls(
    tree: ScopedFiles,
    client: Client,
    PathParams(id): PathParams<Uuid>,
    JsonBody(request): JsonBody<PartUrlsRequest>,
) -> Result<Json<PartUrls>, ApiError> {
    let parts = request
        .parts
        .iter()
        .map(|part| Ok((part.number, Sha256Hex::parse(&part.sha256)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    let (views, urls_expire_at) = tree.checked_part_urls(id, parts).await?;
    Ok(Json(PartUrls {
        parts: self::parts(&client, views),
        urls_expire_at,
    }))
}

/// The optional body of a complete: no body means no checksum from the client.
pub fn complete_request(body: &Bytes) -> Result<Option<Sha256Hex>, Error> {
    let request: CompleteUploadRequest = optional_json(body)?;
    request.sha256.as_deref().map(Sha256Hex::parse).transpose()
}

/// A JSON body that may be left out: empty (or blank) means the default.
pub fn optional_json<T: Default + serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value = serde_json::from_slice(body)
        .map_err(|error| Error::Invalid(format!("the JSON body is not valid: {error}")))?;
    from_object(value)
}

/// Complete a session: the bytes are checked and the file appears. The body may be left out.
#[utoipa::path(
    post,
    path = "/v1/uploads/{id}/complete",
    tag = "uploads",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The upload's id"), ShareQuery),
    request_body(content = CompleteUploadRequest, description = "Optional: the client's SHA-256"),
    responses(
        (status = 200, description = "The file", body = Entry),
        (status = 403, description = "The share is read-only (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such session for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "Parts are missing, the path is taken, or the SHA-256 differs from the one given at create (`conflict`)", body = ErrorBody),
        (status = 422, description = "The bytes do not match the size or checksum (`integrity`)", body = ErrorBody),
        (status = 507, description = "The server's disk is full (`insufficient_storage`)", body = ErrorBody),
    )
)]
async fn complete(
    tree: ScopedFiles,
    PathParams(id): PathParams<Uuid>,
    body: Bytes,
) -> Result<Json<Entry>, ApiError> {
    let sha256 = complete_request(&body)?;
    let node = tree.complete_upload(id, sha256).await?;
    Ok(Json(scoped_entry(tree.scope(), &node)))
}

/// Abort a session; its parts are deleted and its reservation freed.
#[utoipa::path(
    delete,
    path = "/v1/uploads/{id}",
    tag = "uploads",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The upload's id"), ShareQuery),
    responses(
        (status = 204, description = "Aborted"),
        (status = 404, description = "No such session for the caller (`not_found`)", body = ErrorBody),
    )
)]
async fn abort(
    tree: ScopedFiles,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    tree.abort_upload(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
