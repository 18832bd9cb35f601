//! `/v1/files`, `/v1/folders`, `/v1/usage` and `/v1/downloads`: the customer's tree over HTTP.
//!
//! Each handler parses its input into domain types (a bad path is a 400 that names the rule),
//! calls the files service as the caller, and turns the answer into `common::api` types.
//!
//! With `share=<id>` in the query string a handler works inside an item shared with the caller:
//! it takes a [`ScopedFiles`] (the extractor is in `gateway::scope`), whose paths in and out are
//! relative to the item, whose writes need the editor role, and whose error messages never
//! reveal where the item lives in its owner's tree.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::api::{
    Deleted, DownloadLink, Entry, EntryKind, Listing, MkdirRequest, MoveRequest, Usage,
};
use serde::Deserialize;

use crate::files::domain::{Node, NodeKind, PageLimit, RemotePath};
use crate::files::service::{Page, Scope, ScopedFiles};
use crate::gateway::auth::Caller;
use crate::gateway::client::Client;
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
    tree: ScopedFiles,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Listing>, ApiError> {
    let path = RemotePath::parse(query.path.as_deref().unwrap_or("/"))?;
    let limit = PageLimit::parse(query.limit)?;
    let page = tree.list(&path, query.cursor.as_deref(), limit).await?;
    Ok(Json(listing(tree.scope(), &page)))
}

async fn metadata(
    tree: ScopedFiles,
    QueryParams(query): QueryParams<PathQuery>,
) -> Result<Json<Entry>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let node = tree.metadata(&path).await?;
    Ok(Json(scoped_entry(tree.scope(), &node)))
}

async fn delete(
    tree: ScopedFiles,
    QueryParams(query): QueryParams<DeleteQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let removal = tree.delete(&path, query.recursive).await?;
    Ok(Json(Deleted {
        n_files: removal.n_files,
        n_folders: removal.n_folders,
        bytes_freed: removal.bytes_freed,
    }))
}

async fn mkdir(
    tree: ScopedFiles,
    JsonBody(request): JsonBody<MkdirRequest>,
) -> Result<(StatusCode, Json<Entry>), ApiError> {
    let path = RemotePath::parse(&request.path)?;
    let node = tree.mkdir(&path, request.parents).await?;
    Ok((StatusCode::CREATED, Json(scoped_entry(tree.scope(), &node))))
}

async fn move_entry(
    tree: ScopedFiles,
    JsonBody(request): JsonBody<MoveRequest>,
) -> Result<Json<Entry>, ApiError> {
    let from = RemotePath::parse(&request.from)?;
    let to = RemotePath::parse(&request.to)?;
    let node = tree.move_entry(&from, &to).await?;
    Ok(Json(scoped_entry(tree.scope(), &node)))
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
    tree: ScopedFiles,
    client: Client,
    QueryParams(query): QueryParams<PathQuery>,
) -> Result<Json<DownloadLink>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let ticket = tree.download(&path).await?;
    Ok(Json(download_link(&client, ticket)))
}

/// A download ticket as the API shows it.
pub fn download_link(
    client: &Client,
    ticket: crate::files::service::DownloadTicket,
) -> DownloadLink {
    DownloadLink {
        url: client.url(ticket.url),
        expires_at: ticket.expires_at,
        size: ticket.size,
        sha256: ticket.sha256.as_str().to_owned(),
        name: ticket.name,
    }
}
