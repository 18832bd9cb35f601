//! `/v1/files`, `/v1/folders`, `/v1/usage` and `/v1/downloads`: the customer's tree over HTTP.
//!
//! Each handler parses its input into domain types (a bad path is a 400 that names the rule),
//! calls the files service as the caller, and turns the answer into `common::api` types.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::api::{
    Deleted, DownloadLink, Entry, EntryKind, Listing, MkdirRequest, MoveRequest, Usage,
};
use serde::Deserialize;

use crate::files::domain::{Node, NodeKind, PageLimit, RemotePath};
use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody, QueryParams};
use crate::gateway::AppState;

/// The tree's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/files", get(list).delete(delete))
        .route("/v1/files/metadata", get(metadata))
        .route("/v1/files/move", post(move_entry))
        .route("/v1/folders", post(mkdir))
        .route("/v1/usage", get(usage))
        .route("/v1/downloads", get(download))
}

/// A node as the API shows it.
pub fn entry(node: &Node) -> Entry {
    Entry {
        path: node.path.to_string(),
        name: if node.path.is_root() {
            "/".to_owned()
        } else {
            node.path.name().to_owned()
        },
        kind: match node.kind {
            NodeKind::File => EntryKind::File,
            NodeKind::Folder => EntryKind::Folder,
        },
        size: node.size,
        sha256: node.sha256.as_ref().map(|sha| sha.as_str().to_owned()),
        modified_at: node.modified_at,
    }
}

/// `?path=&cursor=&limit=`.
#[derive(Debug, Deserialize)]
struct ListQuery {
    /// The folder; the root when absent.
    path: Option<String>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
    /// Entries per page.
    limit: Option<u32>,
}

/// `?path=`.
#[derive(Debug, Deserialize)]
struct PathQuery {
    /// The entry.
    path: String,
}

/// `?path=&recursive=`.
#[derive(Debug, Deserialize)]
struct DeleteQuery {
    /// The entry.
    path: String,
    /// Delete a folder with everything in it.
    #[serde(default)]
    recursive: bool,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Listing>, ApiError> {
    let path = RemotePath::parse(query.path.as_deref().unwrap_or("/"))?;
    let limit = PageLimit::parse(query.limit)?;
    let page = state
        .files
        .list(caller.customer_id, &path, query.cursor.as_deref(), limit)
        .await?;
    Ok(Json(Listing {
        path: page.folder.to_string(),
        entries: page.entries.iter().map(entry).collect(),
        next_cursor: page.next_cursor,
    }))
}

async fn metadata(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PathQuery>,
) -> Result<Json<Entry>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let node = state.files.metadata(caller.customer_id, &path).await?;
    Ok(Json(entry(&node)))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<DeleteQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let removal = state
        .files
        .delete(caller.customer_id, &path, query.recursive)
        .await?;
    Ok(Json(Deleted {
        n_files: removal.n_files,
        n_folders: removal.n_folders,
        bytes_freed: removal.bytes_freed,
    }))
}

async fn mkdir(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<MkdirRequest>,
) -> Result<(StatusCode, Json<Entry>), ApiError> {
    let path = RemotePath::parse(&request.path)?;
    let node = state
        .files
        .mkdir(caller.customer_id, &path, request.parents)
        .await?;
    Ok((StatusCode::CREATED, Json(entry(&node))))
}

async fn move_entry(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<MoveRequest>,
) -> Result<Json<Entry>, ApiError> {
    let from = RemotePath::parse(&request.from)?;
    let to = RemotePath::parse(&request.to)?;
    let node = state
        .files
        .move_entry(caller.customer_id, &from, &to)
        .await?;
    Ok(Json(entry(&node)))
}

async fn usage(State(state): State<AppState>, caller: Caller) -> Result<Json<Usage>, ApiError> {
    let report = state.files.usage(caller.customer_id).await?;
    Ok(Json(Usage {
        used_bytes: report.counts.used_bytes,
        reserved_bytes: report.counts.reserved_bytes,
        quota_bytes: report.quota_bytes,
        n_files: report.counts.n_files,
        n_folders: report.counts.n_folders,
    }))
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PathQuery>,
) -> Result<Json<DownloadLink>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let ticket = state.files.download(caller.customer_id, &path).await?;
    Ok(Json(DownloadLink {
        url: ticket.url,
        expires_at: ticket.expires_at,
        size: ticket.size,
        sha256: ticket.sha256.as_str().to_owned(),
        name: ticket.name,
    }))
}
