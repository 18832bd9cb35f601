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
use axum::Json;
use common::api::{
    CopyRequest, Deleted, DownloadLink, Entry, EntryKind, ErrorBody, Listing, MkdirRequest,
    MoveRequest, Overwrite, Usage,
};
use serde::Deserialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::files::domain::{Node, NodeKind, OverwritePolicy, PageLimit, RemotePath};
use crate::files::service::{DeleteMode, Deletion, Page, Scope, ScopedFiles};
use crate::gateway::auth::Caller;
use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody, QueryParams};
use crate::gateway::openapi::required_query;
use crate::gateway::scope::ShareQuery;
use crate::gateway::AppState;

/// The tree's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, delete))
        .routes(routes!(metadata))
        .routes(routes!(move_entry))
        .routes(routes!(copy))
        .routes(routes!(mkdir))
        .routes(routes!(usage))
        .routes(routes!(download))
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
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The folder; the root when absent.
    #[param(schema_with = common::api::schemas::optional_path)]
    path: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(schema_with = common::api::schemas::optional_cursor)]
    cursor: Option<String>,
    /// Entries per page.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// `?path=`.
#[derive(Debug, Deserialize)]
pub struct PathQuery {
    /// The entry.
    path: String,
}

impl IntoParams for PathQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![required_query("path", common::api::schemas::path())]
    }
}

/// `?path=` of an entry other than the root.
#[derive(Debug, Deserialize)]
pub struct ItemQuery {
    /// The entry.
    path: String,
}

impl IntoParams for ItemQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![required_query("path", common::api::schemas::item_path())]
    }
}

/// `?path=&recursive=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The entry (not the root): [`ItemQuery`] documents it.
    #[param(ignore)]
    path: String,
    /// Delete a folder with everything in it.
    #[serde(default)]
    recursive: bool,
    /// Delete for good at once instead of into the trash (only the owner may).
    #[serde(default)]
    permanent: bool,
}

/// One page of a folder, sorted by name.
#[utoipa::path(
    get,
    path = "/v1/files",
    operation_id = "list_files",
    tag = "files",
    security(("bearer" = [])),
    params(ListQuery, ShareQuery),
    responses(
        (status = 200, description = "The page", body = Listing),
        (status = 404, description = "No such folder, or no such share for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "The path is a file (`conflict`)", body = ErrorBody),
    )
)]
async fn list(
    tree: ScopedFiles,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Listing>, ApiError> {
    let path = RemotePath::parse(query.path.as_deref().unwrap_or("/"))?;
    let limit = PageLimit::parse(query.limit)?;
    let page = tree.list(&path, query.cursor.as_deref(), limit).await?;
    Ok(Json(listing(tree.scope(), &page)))
}

/// One entry.
#[utoipa::path(
    get,
    path = "/v1/files/metadata",
    tag = "files",
    security(("bearer" = [])),
    params(PathQuery, ShareQuery),
    responses(
        (status = 200, description = "The entry", body = Entry),
        (status = 404, description = "No such entry, or no such share for the caller (`not_found`)", body = ErrorBody),
    )
)]
async fn metadata(
    tree: ScopedFiles,
    QueryParams(query): QueryParams<PathQuery>,
) -> Result<Json<Entry>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let node = tree.metadata(&path).await?;
    Ok(Json(scoped_entry(tree.scope(), &node)))
}

/// Delete a file, or a folder (with `recursive`, and everything in it): into the owner's trash,
/// from where `POST /v1/trash/{id}/restore` brings it back, or for good with `permanent`.
/// Through a share the entry goes into the owner's trash, never into the recipient's.
#[utoipa::path(
    delete,
    path = "/v1/files",
    operation_id = "delete_entry",
    tag = "files",
    security(("bearer" = [])),
    params(ItemQuery, DeleteQuery, ShareQuery),
    responses(
        (status = 200, description = "What went, and where", body = Deleted),
        (status = 403, description = "The share is read-only, the path is the shared item itself, or `permanent` through a share (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such entry, or no such share for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "A folder that is not empty without `recursive` (`conflict`)", body = ErrorBody),
    )
)]
async fn delete(
    tree: ScopedFiles,
    QueryParams(query): QueryParams<DeleteQuery>,
) -> Result<Json<Deleted>, ApiError> {
    let path = RemotePath::parse(&query.path)?;
    let mode = if query.permanent {
        DeleteMode::Permanently
    } else {
        DeleteMode::ToTrash
    };
    Ok(Json(
        match tree.delete(&path, query.recursive, mode).await? {
            Deletion::Trashed(trashed) => Deleted {
                n_files: trashed.item.n_files,
                n_folders: trashed.item.n_folders,
                bytes_freed: 0,
                trashed: true,
                trash_id: Some(trashed.item.id),
                bytes_trashed: trashed.item.size,
            },
            Deletion::Removed(removal) => Deleted {
                n_files: removal.n_files,
                n_folders: removal.n_folders,
                bytes_freed: removal.bytes_freed,
                trashed: false,
                trash_id: None,
                bytes_trashed: 0,
            },
        },
    ))
}

/// Make a folder.
#[utoipa::path(
    post,
    path = "/v1/folders",
    tag = "files",
    security(("bearer" = [])),
    params(ShareQuery),
    request_body = MkdirRequest,
    responses(
        (status = 201, description = "Made (or there already, with `parents`)", body = Entry),
        (status = 403, description = "The share is read-only (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The parent folder is missing, or no such share for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "Something is there already (`conflict`)", body = ErrorBody),
        (status = 507, description = "The server's disk is full (`insufficient_storage`)", body = ErrorBody),
    )
)]
async fn mkdir(
    tree: ScopedFiles,
    JsonBody(request): JsonBody<MkdirRequest>,
) -> Result<(StatusCode, Json<Entry>), ApiError> {
    let path = RemotePath::parse(&request.path)?;
    let node = tree.mkdir(&path, request.parents).await?;
    Ok((StatusCode::CREATED, Json(scoped_entry(tree.scope(), &node))))
}

/// Move or rename a file or folder.
#[utoipa::path(
    post,
    path = "/v1/files/move",
    tag = "files",
    security(("bearer" = [])),
    params(ShareQuery),
    request_body = MoveRequest,
    responses(
        (status = 200, description = "Moved", body = Entry),
        (status = 403, description = "The share is read-only, or the path is the shared item itself (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such entry, or no such share for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "The target exists, or a folder into itself (`conflict`)", body = ErrorBody),
        (status = 507, description = "The server's disk is full (`insufficient_storage`)", body = ErrorBody),
    )
)]
async fn move_entry(
    tree: ScopedFiles,
    JsonBody(request): JsonBody<MoveRequest>,
) -> Result<Json<Entry>, ApiError> {
    let from = RemotePath::parse(&request.from)?;
    let to = RemotePath::parse(&request.to)?;
    let node = tree.move_entry(&from, &to).await?;
    Ok(Json(scoped_entry(tree.scope(), &node)))
}

/// Copy a file or a folder on the server: no byte goes through the client, the copy takes
/// the owner's quota and appears whole or not at all (file by file for a folder).
#[utoipa::path(
    post,
    path = "/v1/files/copy",
    tag = "files",
    security(("bearer" = [])),
    params(ShareQuery),
    request_body = CopyRequest,
    responses(
        (status = 201, description = "Copied", body = Entry),
        (status = 403, description = "The share or the app token is read-only (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such entry, no parent folder for the copy, or no such share for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "A folder is at the target, a file is there without `overwrite: replace`, or a folder into itself (`conflict`)", body = ErrorBody),
        (status = 413, description = "The copy would exceed the quota (`quota_exceeded`)", body = ErrorBody),
        (status = 507, description = "The server's disk is full (`insufficient_storage`)", body = ErrorBody),
    )
)]
async fn copy(
    tree: ScopedFiles,
    JsonBody(request): JsonBody<CopyRequest>,
) -> Result<(StatusCode, Json<Entry>), ApiError> {
    let from = RemotePath::parse(&request.from)?;
    let to = RemotePath::parse(&request.to)?;
    let overwrite = match request.overwrite {
        Overwrite::Fail => OverwritePolicy::Fail,
        Overwrite::Replace => OverwritePolicy::Replace,
    };
    let node = tree.copy(&from, &to, overwrite).await?;
    Ok((StatusCode::CREATED, Json(scoped_entry(tree.scope(), &node))))
}

/// Bytes and entries used, in the tree and in the trash, and the quota (which holds both).
#[utoipa::path(
    get,
    path = "/v1/usage",
    tag = "files",
    security(("bearer" = [])),
    responses((status = 200, description = "The usage", body = Usage))
)]
async fn usage(State(state): State<AppState>, caller: Caller) -> Result<Json<Usage>, ApiError> {
    let report = state.files.usage(caller.customer_id).await?;
    Ok(Json(Usage {
        used_bytes: report.counts.used_bytes,
        trash_bytes: report.counts.trash_bytes,
        n_trashed: report.counts.n_trashed,
        reserved_bytes: report.counts.reserved_bytes,
        quota_bytes: report.quota_bytes,
        n_files: report.counts.n_files,
        n_folders: report.counts.n_folders,
    }))
}

/// A signed, expiring URL for a file's bytes.
#[utoipa::path(
    get,
    path = "/v1/downloads",
    tag = "files",
    security(("bearer" = [])),
    params(ItemQuery, ShareQuery),
    responses(
        (status = 200, description = "Where to fetch it", body = DownloadLink),
        (status = 404, description = "No such entry, or no such share for the caller (`not_found`)", body = ErrorBody),
        (status = 409, description = "The path is a folder (`conflict`)", body = ErrorBody),
    )
)]
async fn download(
    tree: ScopedFiles,
    client: Client,
    QueryParams(query): QueryParams<ItemQuery>,
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
