//! The JSON bodies of the trash: what a delete moved out of the caller's tree (a folder with
//! everything in it), until it is restored, deleted for good, or purged by the server after
//! its retention (`files.trash_retention_days`).
//!
//! | method and path | request | answer |
//! | --- | --- | --- |
//! | `DELETE /v1/files?path=&recursive=` | | [`crate::api::Deleted`] with `trashed: true` and its `trash_id` |
//! | `DELETE /v1/files?path=&recursive=&permanent=true` | | [`crate::api::Deleted`]: gone for good, skipping the trash |
//! | `GET /v1/trash?cursor=&limit=` | | [`TrashListing`], newest first |
//! | `GET /v1/trash/{id}` | | [`TrashEntry`] |
//! | `POST /v1/trash/{id}/restore` | [`RestoreRequest`] (may be left out) | [`RestoredEntry`] |
//! | `DELETE /v1/trash/{id}` | | [`TrashPurged`]: that item, gone for good |
//! | `DELETE /v1/trash` | | [`TrashPurged`]: the trash emptied |
//!
//! A trash belongs to a tree's owner: an editor's delete through a share lands in the owner's
//! trash, which only the owner lists and restores. Trashed bytes count against the quota
//! (`Usage::trash_bytes`) until they are deleted for good.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Entry, EntryKind};

/// An item of the trash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrashEntry {
    /// Its id in the trash: what restore and delete name.
    pub id: Uuid,
    /// Where it was deleted from.
    pub path: String,
    /// The last segment of `path`.
    pub name: String,
    /// File or folder.
    pub kind: EntryKind,
    /// Bytes of its files: what it holds of the quota.
    pub size: u64,
    /// Files in it (1 for a file).
    pub n_files: u64,
    /// Folders in it, itself included (0 for a file).
    pub n_folders: u64,
    /// When it was deleted.
    pub trashed_at: DateTime<Utc>,
    /// When the server deletes it for good, unless it is restored first.
    pub purge_at: DateTime<Utc>,
    /// Who deleted it: the owner, or an editor of one of the owner's shares.
    pub trashed_by: Uuid,
    /// The e-mail address of the editor who deleted it through a share; absent when the owner
    /// did (or the editor's account is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trashed_by_email: Option<String>,
}

/// `GET /v1/trash`: one page of the trash, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrashListing {
    /// This page's items.
    pub items: Vec<TrashEntry>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Uuid>,
}

/// `POST /v1/trash/{id}/restore`. Without `to` (or without a body) the item goes back where it
/// was, or, when that path is taken, beside it as `name (2).ext` (`name (3).ext`, …); missing
/// parent folders are made again.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RestoreRequest {
    /// Restore exactly here instead: the path must be free (else 409); missing parent folders
    /// are made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::optional_item_path))]
    pub to: Option<String>,
}

/// `POST /v1/trash/{id}/restore`: where the item is now.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestoredEntry {
    /// The item's id in the trash, which it left.
    pub id: Uuid,
    /// Where it was deleted from.
    pub from: String,
    /// The entry back in the tree (its `path` differs from `from` when that was taken).
    pub entry: Entry,
    /// Folders made again because the item's parent was gone.
    pub n_parents_made: u64,
}

/// `DELETE /v1/trash/{id}` and `DELETE /v1/trash`: what went for good.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrashPurged {
    /// Items of the trash deleted.
    pub n_items: u64,
    /// Files in them.
    pub n_files: u64,
    /// Folders in them.
    pub n_folders: u64,
    /// Bytes freed from the quota.
    pub bytes_freed: u64,
}
