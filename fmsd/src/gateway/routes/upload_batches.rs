//! `/v1/uploads/batch`: many upload sessions created, or completed, in one request, so a
//! folder of small files costs the client one request per file (its part's `PUT`) and the
//! stores one transaction per batch. Each file gets the answer the one-file route would have
//! given it (`routes::uploads`); `share=<id>` works as there.

use axum::http::StatusCode;
use axum::Json;
use common::api::{
    CompleteUploadsRequest, CompletedUpload, CompletedUploads, CreateUploadsRequest, CreatedUpload,
    CreatedUploads, ErrorBody,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::files::scoped_entry;
use super::uploads::{new_upload, session};
use crate::error::Error;
use crate::files::domain::{RemotePath, Sha256Hex};
use crate::files::service::{ScopedFiles, MAX_BATCH};
use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody};
use crate::gateway::scope::ShareQuery;
use crate::gateway::AppState;

/// The batch routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_batch))
        .routes(routes!(complete_batch))
}

/// Start (or resume) up to 100 upload sessions; each gets the answer `POST /v1/uploads` would
/// give it.
#[utoipa::path(
    post,
    path = "/v1/uploads/batch",
    tag = "uploads",
    security(("bearer" = [])),
    params(ShareQuery),
    request_body = CreateUploadsRequest,
    responses(
        (status = 200, description = "One result per upload, in order", body = CreatedUploads),
        (status = 400, description = "No upload, more than 100, a malformed SHA-256, a size over 2^63 - 1 or a path over the schema's lengths (`invalid`)", body = ErrorBody),
        (status = 403, description = "The share is read-only (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such share for the caller (`not_found`)", body = ErrorBody),
    )
)]
async fn create_batch(
    tree: ScopedFiles,
    client: Client,
    JsonBody(request): JsonBody<CreateUploadsRequest>,
) -> Result<Json<CreatedUploads>, ApiError> {
    check_size(request.uploads.len())?;
    check_checksums(
        request
            .uploads
            .iter()
            .map(|upload| upload.sha256.as_deref()),
    )?;
    check_path_lengths(request.uploads.iter().map(|upload| upload.path.as_str()))?;
    check_sizes(request.uploads.iter().map(|upload| upload.size))?;
    let paths: Vec<Result<RemotePath, Error>> = request
        .uploads
        .iter()
        .map(|upload| RemotePath::parse(&upload.path))
        .collect();
    let asked: Vec<_> = request
        .uploads
        .iter()
        .zip(&paths)
        .filter_map(|(upload, path)| path.as_ref().ok().map(|path| new_upload(path, upload)))
        .collect();
    let mut answers = if asked.is_empty() {
        Vec::new()
    } else {
        tree.create_uploads(asked).await?
    }
    .into_iter();
    let mut results = Vec::with_capacity(paths.len());
    for path in paths {
        let answer = match path {
            Err(error) => Err(error),
            Ok(_) => answers.next().unwrap_or_else(|| {
                Err(Error::internal(anyhow::anyhow!(
                    "the service answered fewer uploads than it was asked"
                )))
            }),
        };
        results.push(match answer {
            Ok((view, resumed)) => CreatedUpload {
                status: if resumed { 200 } else { 201 },
                session: Some(session(&client, tree.scope(), view)),
                error: None,
            },
            Err(error) => {
                let (status, detail) = ApiError(error).answer();
                CreatedUpload {
                    status: status.as_u16(),
                    session: None,
                    error: Some(detail),
                }
            }
        });
    }
    Ok(Json(CreatedUploads { results }))
}

/// Complete up to 100 sessions; each gets the answer `POST /v1/uploads/{id}/complete` would
/// give it.
#[utoipa::path(
    post,
    path = "/v1/uploads/batch/complete",
    tag = "uploads",
    security(("bearer" = [])),
    params(ShareQuery),
    request_body = CompleteUploadsRequest,
    responses(
        (status = 200, description = "One result per session, in order", body = CompletedUploads),
        (status = 400, description = "No session, or more than 100 (`invalid`)", body = ErrorBody),
        (status = 403, description = "The share is read-only (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such share for the caller (`not_found`)", body = ErrorBody),
    )
)]
async fn complete_batch(
    tree: ScopedFiles,
    JsonBody(request): JsonBody<CompleteUploadsRequest>,
) -> Result<Json<CompletedUploads>, ApiError> {
    check_size(request.uploads.len())?;
    check_checksums(
        request
            .uploads
            .iter()
            .map(|upload| upload.sha256.as_deref()),
    )?;
    let checksums: Vec<Result<Option<Sha256Hex>, Error>> = request
        .uploads
        .iter()
        .map(|upload| upload.sha256.as_deref().map(Sha256Hex::parse).transpose())
        .collect();
    let asked: Vec<_> = request
        .uploads
        .iter()
        .zip(&checksums)
        .filter_map(|(upload, sha256)| {
            sha256
                .as_ref()
                .ok()
                .map(|sha256| (upload.upload_id, sha256.clone()))
        })
        .collect();
    let mut answers = if asked.is_empty() {
        Vec::new()
    } else {
        tree.complete_uploads(asked).await?
    }
    .into_iter();
    let mut results = Vec::with_capacity(checksums.len());
    for sha256 in checksums {
        let answer = match sha256 {
            Err(error) => Err(error),
            Ok(_) => answers.next().unwrap_or_else(|| {
                Err(Error::internal(anyhow::anyhow!(
                    "the service answered fewer sessions than it was asked"
                )))
            }),
        };
        results.push(match answer {
            Ok(node) => CompletedUpload {
                status: StatusCode::OK.as_u16(),
                entry: Some(scoped_entry(tree.scope(), &node)),
                error: None,
            },
            Err(error) => {
                let (status, detail) = ApiError(error).answer();
                CompletedUpload {
                    status: status.as_u16(),
                    entry: None,
                    error: Some(detail),
                }
            }
        });
    }
    Ok(Json(CompletedUploads { results }))
}

/// A batch names 1 to [`MAX_BATCH`] files; checked before any work.
fn check_size(n_files: usize) -> Result<(), Error> {
    if n_files == 0 || n_files > MAX_BATCH {
        return Err(Error::Invalid(format!(
            "a batch names 1 to {MAX_BATCH} uploads, not {n_files}"
        )));
    }
    Ok(())
}

/// Every path is within the lengths the schema gives, in characters (4,096, and 255 for a
/// segment): a longer one breaks the request's schema, so the whole batch is refused. A path
/// that breaks another rule, or these lengths only in bytes, is answered per file.
fn check_path_lengths<'a>(paths: impl Iterator<Item = &'a str>) -> Result<(), Error> {
    for (index, path) in paths.enumerate() {
        let too_long = path.chars().count() > RemotePath::MAX_BYTES
            || path
                .split('/')
                .any(|segment| segment.chars().count() > RemotePath::MAX_SEGMENT_BYTES);
        if too_long {
            return Err(Error::Invalid(format!(
                "upload {index} of the batch: the path must be at most {} characters, each \
                 segment at most {}",
                RemotePath::MAX_BYTES,
                RemotePath::MAX_SEGMENT_BYTES
            )));
        }
    }
    Ok(())
}

/// Every size fits the schema's `int64`: a larger one breaks the request's schema (no store
/// can hold it), so the whole batch is refused; a size over the quota is answered per file.
fn check_sizes(sizes: impl Iterator<Item = u64>) -> Result<(), Error> {
    for (index, size) in sizes.enumerate() {
        if i64::try_from(size).is_err() {
            return Err(Error::Invalid(format!(
                "upload {index} of the batch: a size is at most {} bytes, not {size}",
                i64::MAX
            )));
        }
    }
    Ok(())
}

/// Every SHA-256 named is 64 hex digits: a malformed one breaks the request's schema, so the
/// whole batch is refused (and names which) before any work; what depends on the files
/// (a path taken, the quota) is answered per file.
fn check_checksums<'a>(checksums: impl Iterator<Item = Option<&'a str>>) -> Result<(), Error> {
    for (index, sha256) in checksums.enumerate() {
        if let Some(Err(Error::Invalid(message))) = sha256.map(Sha256Hex::parse) {
            return Err(Error::Invalid(format!(
                "upload {index} of the batch: {message}"
            )));
        }
    }
    Ok(())
}
