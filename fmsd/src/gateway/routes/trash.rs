//! `/v1/trash`: what the caller's deletes (and their editors' deletes through shares) moved out
//! of the caller's tree — listed, restored, deleted for good, emptied.
//!
//! A trash is its owner's alone: these routes take the [`Caller`] and never `share=`, so a
//! share's recipient reaches no one's trash but their own, and every id is looked up within
//! the caller's trash (another owner's item is simply not found).

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use common::api::{
    EntryKind, ErrorBody, RestoreRequest, RestoredEntry, TrashEntry, TrashListing, TrashPurged,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::files::entry;
use super::uploads::optional_json;
use crate::files::domain::{NodeKind, PageLimit, RemotePath, TrashItem, TrashPurge};
use crate::files::service::FileService;
use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, PathParams, QueryParams};
use crate::gateway::AppState;

/// The trash's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, empty))
        .routes(routes!(show, delete_item))
        .routes(routes!(restore))
}

/// `?cursor=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrashQuery {
    /// The previous page's `next_cursor`.
    cursor: Option<Uuid>,
    /// Items per page.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// An item as the API shows it, with the e-mail of the editor who deleted it, if one did.
fn trash_entry(files: &FileService, item: &TrashItem, by: Option<&String>) -> TrashEntry {
    TrashEntry {
        id: item.id,
        path: item.path.to_string(),
        name: item.path.name().to_owned(),
        kind: match item.kind {
            NodeKind::File => EntryKind::File,
            NodeKind::Folder => EntryKind::Folder,
        },
        size: item.size,
        n_files: item.n_files,
        n_folders: item.n_folders,
        trashed_at: item.trashed_at,
        purge_at: files.purge_at(item),
        trashed_by: item.trashed_by,
        trashed_by_email: by.cloned(),
    }
}

/// What a purge deleted, as the API says it.
fn purged(purge: &TrashPurge) -> TrashPurged {
    TrashPurged {
        n_items: purge.items.len() as u64,
        n_files: purge.removal.n_files,
        n_folders: purge.removal.n_folders,
        bytes_freed: purge.removal.bytes_freed,
    }
}

/// One page of the caller's trash, newest first.
#[utoipa::path(
    get,
    path = "/v1/trash",
    tag = "trash",
    security(("bearer" = [])),
    params(TrashQuery),
    responses(
        (status = 200, description = "The page", body = TrashListing),
        (status = 400, description = "A malformed cursor or limit (`invalid`)", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TrashQuery>,
) -> Result<Json<TrashListing>, ApiError> {
    let limit = PageLimit::parse(query.limit)?;
    let page = state
        .files
        .trash_page(caller.customer_id, query.cursor, limit)
        .await?;
    let by = state
        .files
        .deleted_by(caller.customer_id, &page.items)
        .await?;
    Ok(Json(TrashListing {
        items: page
            .items
            .iter()
            .map(|item| trash_entry(&state.files, item, by.get(&item.trashed_by)))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One item of the caller's trash.
#[utoipa::path(
    get,
    path = "/v1/trash/{id}",
    tag = "trash",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The item's id in the trash")),
    responses(
        (status = 200, description = "The item", body = TrashEntry),
        (status = 404, description = "No such item in the caller's trash (`not_found`)", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<TrashEntry>, ApiError> {
    let item = state.files.trash_item(caller.customer_id, id).await?;
    let by = state
        .files
        .deleted_by(caller.customer_id, std::slice::from_ref(&item))
        .await?;
    Ok(Json(trash_entry(
        &state.files,
        &item,
        by.get(&item.trashed_by),
    )))
}

/// Put an item back into the tree: where it was, or beside it as `name (2).ext` when that is
/// taken, or at `to`; missing parent folders are made again. Its shares and links are not
/// brought back. The body may be left out.
#[utoipa::path(
    post,
    path = "/v1/trash/{id}/restore",
    tag = "trash",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The item's id in the trash")),
    request_body(content = RestoreRequest, description = "Optional: where to restore it"),
    responses(
        (status = 200, description = "Where it is now", body = RestoredEntry),
        (status = 400, description = "A malformed body or path, or a path the restore would make too long (`invalid`)", body = ErrorBody),
        (status = 404, description = "No such item in the caller's trash (`not_found`)", body = ErrorBody),
        (status = 409, description = "`to` is taken, or a file is where a parent folder must be (`conflict`)", body = ErrorBody),
    )
)]
async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    body: Bytes,
) -> Result<Json<RestoredEntry>, ApiError> {
    let request: RestoreRequest = optional_json(&body)?;
    let to = request.to.as_deref().map(RemotePath::parse).transpose()?;
    let restored = state
        .files
        .restore(caller.customer_id, id, to.as_ref())
        .await?;
    Ok(Json(RestoredEntry {
        id: restored.item.id,
        from: restored.item.path.to_string(),
        entry: entry(&restored.node),
        n_parents_made: restored.n_parents_made,
    }))
}

/// Delete one item of the trash for good: its bytes leave the quota.
#[utoipa::path(
    delete,
    path = "/v1/trash/{id}",
    tag = "trash",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The item's id in the trash")),
    responses(
        (status = 200, description = "What went", body = TrashPurged),
        (status = 404, description = "No such item in the caller's trash (`not_found`)", body = ErrorBody),
    )
)]
async fn delete_item(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<TrashPurged>, ApiError> {
    let purge = state
        .files
        .delete_from_trash(caller.customer_id, id)
        .await?;
    Ok(Json(purged(&purge)))
}

/// Empty the caller's trash: everything in it is deleted for good.
#[utoipa::path(
    delete,
    path = "/v1/trash",
    tag = "trash",
    security(("bearer" = [])),
    responses((status = 200, description = "What went", body = TrashPurged))
)]
async fn empty(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TrashPurged>, ApiError> {
    let purge = state.files.empty_trash(caller.customer_id).await?;
    Ok(Json(purged(&purge)))
}
