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

use super::files::{scoped_entry, ShareQuery};
use crate::error::Error;
use crate::files::domain::{OverwritePolicy, RemotePath, Sha256Hex};
use crate::files::service::{CreateUpload, Scope, UploadView};
use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody, PathParams, QueryParams};
use crate::gateway::AppState;

/// The upload-session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/uploads", post(create))
        .route("/v1/uploads/{id}", get(show).delete(abort))
        .route("/v1/uploads/{id}/complete", post(complete))
}

/// A session as the API shows it to a caller working in `scope` (paths relative to it).
pub fn session(scope: &Scope, view: UploadView) -> UploadSession {
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
    QueryParams(query): QueryParams<ShareQuery>,
    JsonBody(request): JsonBody<CreateUploadRequest>,
) -> Result<(StatusCode, Json<UploadSession>), ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let path = RemotePath::parse(&request.path)?;
    scope.require_write()?;
    let (view, resumed) = async {
        let request = CreateUpload {
            path: scope.resolve(&path)?,
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
            grant: scope.grant,
        };
        state.files.create_upload(scope.owner, request).await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    let status = if resumed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(session(&scope, view))))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    QueryParams(query): QueryParams<ShareQuery>,
) -> Result<Json<UploadSession>, ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let view = async {
        state.files.check_upload_scope(&scope, id).await?;
        state.files.upload(scope.owner, id).await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok(Json(session(&scope, view)))
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
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    QueryParams(query): QueryParams<ShareQuery>,
    body: Bytes,
) -> Result<Json<Entry>, ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let sha256 = complete_request(&body)?;
    scope.require_write()?;
    let node = async {
        state.files.check_upload_scope(&scope, id).await?;
        state.files.complete_upload(scope.owner, id, sha256).await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok(Json(scoped_entry(&scope, &node)))
}

async fn abort(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    QueryParams(query): QueryParams<ShareQuery>,
) -> Result<StatusCode, ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    scope.require_write()?;
    async {
        state.files.check_upload_scope(&scope, id).await?;
        state.files.abort_upload(scope.owner, id).await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok(StatusCode::NO_CONTENT)
}
