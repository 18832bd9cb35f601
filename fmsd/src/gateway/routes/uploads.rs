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
use axum::routing::{get, post};
use axum::{Json, Router};
use common::api::{
    self, CompleteUploadRequest, CreateUploadRequest, Entry, Overwrite, UploadList, UploadPart,
    UploadSession,
};
use uuid::Uuid;

use super::files::scoped_entry;
use crate::error::Error;
use crate::files::domain::{OverwritePolicy, RemotePath, Sha256Hex};
use crate::files::service::{HeldUpload, PartView, Scope, ScopedFiles, StartedThrough, UploadView};
use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody, PathParams};
use crate::gateway::AppState;

/// The upload-session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/uploads", post(create).get(list))
        .route("/v1/uploads/{id}", get(show).delete(abort))
        .route("/v1/uploads/{id}/complete", post(complete))
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
        })
        .collect()
}

async fn create(
    tree: ScopedFiles,
    client: Client,
    JsonBody(request): JsonBody<CreateUploadRequest>,
) -> Result<(StatusCode, Json<UploadSession>), ApiError> {
    let path = RemotePath::parse(&request.path)?;
    let overwrite = match request.overwrite {
        Overwrite::Fail => OverwritePolicy::Fail,
        Overwrite::Replace => OverwritePolicy::Replace,
    };
    let (view, resumed) = tree
        .create_upload(&path, request.size, request.sha256.as_deref(), overwrite)
        .await?;
    let status = if resumed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(session(&client, tree.scope(), view))))
}

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

async fn show(
    tree: ScopedFiles,
    client: Client,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<UploadSession>, ApiError> {
    let view = tree.upload(id).await?;
    Ok(Json(session(&client, tree.scope(), view)))
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
    serde_json::from_slice(body)
        .map_err(|error| Error::Invalid(format!("the JSON body is not valid: {error}")))
}

async fn complete(
    tree: ScopedFiles,
    PathParams(id): PathParams<Uuid>,
    body: Bytes,
) -> Result<Json<Entry>, ApiError> {
    let sha256 = complete_request(&body)?;
    let node = tree.complete_upload(id, sha256).await?;
    Ok(Json(scoped_entry(tree.scope(), &node)))
}

async fn abort(
    tree: ScopedFiles,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    tree.abort_upload(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
