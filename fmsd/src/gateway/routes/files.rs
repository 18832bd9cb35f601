//! `/v1/files`, `/v1/folders`, `/v1/usage` and `/v1/downloads`: the customer's tree over HTTP.
//!
//! Each handler parses its input into domain types (a bad path is a 400 that names the rule),
//! calls the files service as the caller, and turns the answer into `common::api` types.
//!
//! With `share=<id>` in the query string a handler works inside an item shared with the caller
//! (see [`Scope`]): paths in and out are relative to the item, writes need the editor role, and
//! no answer or error message reveals where the item lives in its owner's tree.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::api::{
    Deleted, DownloadLink, Entry, EntryKind, Listing, MkdirRequest, MoveRequest, Usage,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::files::domain::{Node, NodeKind, PageLimit, RemotePath};
use crate::files::service::{Page, Scope};
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
    scoped_entry(&Scope::own(node.owner), node)
}

/// A node as the API shows it to a caller working in `scope`: its path relative to the scope.
pub fn scoped_entry(scope: &Scope, node: &Node) -> Entry {
    let path = scope.relative(&node.path).unwrap_or_else(RemotePath::root);
    Entry {
        path: path.to_string(),
        name: if node.path.is_root() {
            "/".to_owned()
        } else {
            node.path.name().to_owned()
        },
        kind: entry_kind(node),
        size: node.size,
        sha256: node.sha256.as_ref().map(|sha| sha.as_str().to_owned()),
        modified_at: node.modified_at,
    }
}

/// Whether a node is a file or a folder, as the API says it.
pub fn entry_kind(node: &Node) -> EntryKind {
    match node.kind {
        NodeKind::File => EntryKind::File,
        NodeKind::Folder => EntryKind::Folder,
    }
}

/// A page as the API shows it to a caller working in `scope`.
pub fn listing(scope: &Scope, page: &Page) -> Listing {
    Listing {
        path: scope
            .relative(&page.folder)
            .unwrap_or_else(RemotePath::root)
            .to_string(),
        entries: page
            .entries
            .iter()
            .map(|node| scoped_entry(scope, node))
            .collect(),
        next_cursor: page.next_cursor.clone(),
    }
}

/// `?share=`: work inside an item shared with the caller.
#[derive(Debug, Deserialize)]
pub struct ShareQuery {
    /// The share's id.
    pub share: Option<Uuid>,
}

/// `?path=&cursor=&limit=`.
#[derive(Debug, Deserialize)]
struct ListQuery {
    /// The share to work in.
    share: Option<Uuid>,
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
    /// The share to work in.
    share: Option<Uuid>,
    /// The entry.
    path: String,
}

/// `?path=&recursive=`.
#[derive(Debug, Deserialize)]
struct DeleteQuery {
    /// The share to work in.
    share: Option<Uuid>,
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
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let path = RemotePath::parse(query.path.as_deref().unwrap_or("/"))?;
    let limit = PageLimit::parse(query.limit)?;
    let page = async {
        let folder = scope.resolve(&path)?;
        state
            .files
            .list(scope.owner, &folder, query.cursor.as_deref(), limit)
            .await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok(Json(listing(&scope, &page)))
}

async fn metadata(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<PathQuery>,
) -> Result<Json<Entry>, ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let path = RemotePath::parse(&query.path)?;
    let node = async {
        state
            .files
            .metadata(scope.owner, &scope.resolve(&path)?)
            .await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok(Json(scoped_entry(&scope, &node)))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<DeleteQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let path = RemotePath::parse(&query.path)?;
    scope.require_write()?;
    scope.require_inside(&path)?;
    let removal = async {
        state
            .files
            .delete(scope.owner, &scope.resolve(&path)?, query.recursive)
            .await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok(Json(Deleted {
        n_files: removal.n_files,
        n_folders: removal.n_folders,
        bytes_freed: removal.bytes_freed,
    }))
}

async fn mkdir(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ShareQuery>,
    JsonBody(request): JsonBody<MkdirRequest>,
) -> Result<(StatusCode, Json<Entry>), ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let path = RemotePath::parse(&request.path)?;
    scope.require_write()?;
    let node = async {
        state
            .files
            .mkdir(scope.owner, &scope.resolve(&path)?, request.parents)
            .await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok((StatusCode::CREATED, Json(scoped_entry(&scope, &node))))
}

async fn move_entry(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ShareQuery>,
    JsonBody(request): JsonBody<MoveRequest>,
) -> Result<Json<Entry>, ApiError> {
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let from = RemotePath::parse(&request.from)?;
    let to = RemotePath::parse(&request.to)?;
    scope.require_write()?;
    scope.require_inside(&from)?;
    scope.require_inside(&to)?;
    let node = async {
        state
            .files
            .move_entry(scope.owner, &scope.resolve(&from)?, &scope.resolve(&to)?)
            .await
    }
    .await
    .map_err(|error| scope.redact(error))?;
    Ok(Json(scoped_entry(&scope, &node)))
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
    let scope = state.files.scope(caller.customer_id, query.share).await?;
    let path = RemotePath::parse(&query.path)?;
    let ticket = state
        .files
        .download_in(&scope, &path)
        .await
        .map_err(|error| scope.redact(error))?;
    Ok(Json(download_link(ticket)))
}

/// A download ticket as the API shows it.
pub fn download_link(ticket: crate::files::service::DownloadTicket) -> DownloadLink {
    DownloadLink {
        url: ticket.url,
        expires_at: ticket.expires_at,
        size: ticket.size,
        sha256: ticket.sha256.as_str().to_owned(),
        name: ticket.name,
    }
}
