//! `/v1/uploads`: create or resume an upload session, see it with fresh part URLs, complete it,
//! abort it. The parts themselves go to the URLs in the session (for the embedded blob store,
//! `routes::blobs`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::api::{
    CompleteUploadRequest, CreateUploadRequest, Entry, Overwrite, UploadPart, UploadSession,
};
use uuid::Uuid;

use super::files::entry;
use crate::error::Error;
use crate::files::domain::{OverwritePolicy, RemotePath, Sha256Hex};
use crate::files::service::{CreateUpload, UploadView};
use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody, PathParams};
use crate::gateway::AppState;

/// The upload-session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/uploads", post(create))
        .route("/v1/uploads/{id}", get(show).delete(abort))
        .route("/v1/uploads/{id}/complete", post(complete))
}

/// A session as the API shows it.
fn session(view: UploadView) -> UploadSession {
    let upload = view.upload;
    UploadSession {
        upload_id: upload.id,
        path: upload.path.to_string(),
        size: upload.size,
        sha256: upload.sha256.map(|sha| sha.as_str().to_owned()),
        part_size: upload.part_size,
        parts: view
            .parts
            .into_iter()
            .map(|part| UploadPart {
                number: part.number,
                offset: part.offset,
                size: part.size,
                stored: part.stored,
                url: part.url,
            })
            .collect(),
        urls_expire_at: view.urls_expire_at,
        expires_at: upload.expires_at,
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<CreateUploadRequest>,
) -> Result<(StatusCode, Json<UploadSession>), ApiError> {
    let request = CreateUpload {
        path: RemotePath::parse(&request.path)?,
        size: request.size,
        sha256: request
            .sha256
            .as_deref()
            .map(Sha256Hex::parse)
            .transpose()?,
        overwrite: match request.overwrite {
            Overwrite::Fail => OverwritePolicy::Fail,
            Overwrite::Replace => OverwritePolicy::Replace,
        },
    };
    let (view, resumed) = state
        .files
        .create_upload(caller.customer_id, request)
        .await?;
    let status = if resumed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(session(view))))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<UploadSession>, ApiError> {
    let view = state.files.upload(caller.customer_id, id).await?;
    Ok(Json(session(view)))
}

/// The body is optional: no body means no checksum from the client.
async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    body: Bytes,
) -> Result<Json<Entry>, ApiError> {
    let request: CompleteUploadRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CompleteUploadRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| Error::Invalid(format!("the JSON body is not valid: {error}")))?
    };
    let sha256 = request
        .sha256
        .as_deref()
        .map(Sha256Hex::parse)
        .transpose()?;
    let node = state
        .files
        .complete_upload(caller.customer_id, id, sha256)
        .await?;
    Ok(Json(entry(&node)))
}

async fn abort(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.files.abort_upload(caller.customer_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
