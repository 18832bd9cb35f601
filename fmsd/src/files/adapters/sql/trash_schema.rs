//! The trash's tables, written by hand to match `migrations/files/2026-12-08-000000_trash`
//! (SQLite) and `migrations/files-postgres/2026-12-08-000200_trash`, and their rows turned
//! back into domain records. As for the tree (`schema`), both databases hold the same columns,
//! so both adapters share these rows and return equal items.

use diesel::prelude::*;

use super::schema::{self, NodeRow, FILE, FOLDER};
use crate::error::Result;
use crate::files::domain::{NodeKind, TrashItem};

diesel::table! {
    /// One row per trashed entry (see the `trash` migrations).
    trash (id) {
        id -> Text,
        owner_id -> Text,
        node_id -> Text,
        path -> Text,
        kind -> Text,
        size -> BigInt,
        n_files -> BigInt,
        n_folders -> BigInt,
        trashed_at -> BigInt,
        trashed_by -> Text,
    }
}

diesel::table! {
    /// The rows of `nodes` a trashed entry took with it, as they were.
    trashed_nodes (id) {
        id -> Text,
        trash_id -> Text,
        owner_id -> Text,
        path -> Text,
        parent -> Text,
        name -> Text,
        kind -> Text,
        size -> BigInt,
        sha256 -> Nullable<Text>,
        blob_key -> Nullable<Text>,
        modified_at -> BigInt,
    }
}

/// A row of `trash`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = trash, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct TrashRow {
    pub id: String,
    pub owner_id: String,
    pub node_id: String,
    pub path: String,
    pub kind: String,
    pub size: i64,
    pub n_files: i64,
    pub n_folders: i64,
    pub trashed_at: i64,
    pub trashed_by: String,
}

/// A row of `trashed_nodes`: a row of `nodes` as it was, with the item it went with.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = trashed_nodes, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct TrashedNodeRow {
    pub id: String,
    pub trash_id: String,
    pub owner_id: String,
    pub path: String,
    pub parent: String,
    pub name: String,
    pub kind: String,
    pub size: i64,
    sha256: Option<String>,
    pub blob_key: Option<String>,
    pub modified_at: i64,
}

impl TrashRow {
    /// The item the row holds.
    pub fn into_item(self) -> Result<TrashItem> {
        Ok(TrashItem {
            id: schema::uuid(&self.id)?,
            owner: schema::uuid(&self.owner_id)?,
            node_id: schema::uuid(&self.node_id)?,
            path: schema::path(&self.path)?,
            kind: match self.kind.as_str() {
                FILE => NodeKind::File,
                FOLDER => NodeKind::Folder,
                other => return Err(schema::corrupt("kind", other)),
            },
            size: schema::size(self.size)?,
            n_files: schema::size(self.n_files)?,
            n_folders: schema::size(self.n_folders)?,
            trashed_at: schema::time(self.trashed_at)?,
            trashed_by: schema::uuid(&self.trashed_by)?,
        })
    }
}

impl TrashedNodeRow {
    /// The row `row` of `nodes`, kept under the trash item `trash_id`.
    pub fn kept(row: NodeRow, trash_id: &str) -> Self {
        Self {
            id: row.id,
            trash_id: trash_id.to_owned(),
            owner_id: row.owner_id,
            path: row.path,
            parent: row.parent,
            name: row.name,
            kind: row.kind,
            size: row.size,
            sha256: row.sha256,
            blob_key: row.blob_key,
            modified_at: row.modified_at,
        }
    }

    /// The row as it was in `nodes`.
    pub fn into_node_row(self) -> NodeRow {
        NodeRow {
            id: self.id,
            owner_id: self.owner_id,
            path: self.path,
            parent: self.parent,
            name: self.name,
            kind: self.kind,
            size: self.size,
            sha256: self.sha256,
            blob_key: self.blob_key,
            modified_at: self.modified_at,
        }
    }
}
