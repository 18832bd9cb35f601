//! The files tables, written by hand to match `migrations/files` (SQLite) and
//! `migrations/files-postgres`, and the rows read from them turned back into domain records.
//! Both databases hold the same columns (text ids, microsecond times, signed sizes), so both
//! adapters share these rows and return equal entries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::files::domain::{
    BlobKey, Node, NodeKind, OverwritePolicy, RemotePath, Sha256Hex, StagingId, Upload,
};

diesel::table! {
    nodes (id) {
        id -> Text,
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

diesel::table! {
    uploads (id) {
        id -> Text,
        owner_id -> Text,
        path -> Text,
        size -> BigInt,
        sha256 -> Nullable<Text>,
        overwrite -> Text,
        part_size -> BigInt,
        blob_key -> Text,
        staging_id -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        grant_id -> Nullable<Text>,
        active_at -> BigInt,
        stored_bytes -> BigInt,
    }
}

diesel::table! {
    garbage (id) {
        id -> BigInt,
        blob_key -> Text,
        staging_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// What each owner stores, kept by triggers on `nodes` (see the `usage` migrations).
    owner_usage (owner_id) {
        owner_id -> Text,
        used_bytes -> BigInt,
        n_files -> BigInt,
        n_folders -> BigInt,
        trash_bytes -> BigInt,
        n_trashed -> BigInt,
    }
}

diesel::table! {
    deleted_owners (owner_id) {
        owner_id -> Text,
        deleted_at -> BigInt,
    }
}

/// `kind` of a file.
pub const FILE: &str = "file";
/// `kind` of a folder.
pub const FOLDER: &str = "folder";

/// A row of `nodes`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = nodes, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct NodeRow {
    pub id: String,
    pub owner_id: String,
    pub path: String,
    pub parent: String,
    pub name: String,
    pub kind: String,
    pub size: i64,
    pub sha256: Option<String>,
    pub blob_key: Option<String>,
    pub modified_at: i64,
}

/// A row of `uploads`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = uploads, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct UploadRow {
    pub id: String,
    pub owner_id: String,
    pub path: String,
    pub size: i64,
    pub sha256: Option<String>,
    pub overwrite: String,
    pub part_size: i64,
    pub blob_key: String,
    pub staging_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub grant_id: Option<String>,
    /// When the session was last seen to make progress (see the migration).
    pub active_at: i64,
    /// The bytes its parts held then.
    pub stored_bytes: i64,
}

/// A stored value that does not parse: the database was changed behind fmsd's back.
pub fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(anyhow::anyhow!(
        "the files database holds a malformed {what}: {value:?}"
    ))
}

/// A time as stored: microseconds since the Unix epoch.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A stored time.
pub fn time(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("time", &micros.to_string()))
}

/// A size as stored; SQLite integers and `bigint` are signed.
pub fn stored_size(size: u64) -> Result<i64> {
    i64::try_from(size).map_err(|_| Error::Invalid(format!("a size of {size} bytes is too large")))
}

/// A stored size.
pub fn size(stored: i64) -> Result<u64> {
    u64::try_from(stored).map_err(|_| corrupt("size", &stored.to_string()))
}

/// A stored id.
pub fn uuid(stored: &str) -> Result<Uuid> {
    Uuid::parse_str(stored).map_err(|_| corrupt("id", stored))
}

/// A stored path.
pub fn path(stored: &str) -> Result<RemotePath> {
    RemotePath::parse(stored).map_err(|_| corrupt("path", stored))
}

/// A stored blob key.
pub fn blob_key(stored: &str) -> Result<BlobKey> {
    BlobKey::parse(stored).map_err(|_| corrupt("blob key", stored))
}

/// A stored checksum.
fn sha256(stored: &str) -> Result<Sha256Hex> {
    Sha256Hex::parse(stored).map_err(|_| corrupt("sha256", stored))
}

/// An overwrite policy as stored.
pub fn overwrite_text(policy: OverwritePolicy) -> &'static str {
    match policy {
        OverwritePolicy::Fail => "fail",
        OverwritePolicy::Replace => "replace",
    }
}

impl NodeRow {
    /// The row for `node`.
    pub fn from_node(node: &Node) -> Result<Self> {
        Ok(Self {
            id: node.id.to_string(),
            owner_id: node.owner.to_string(),
            path: node.path.to_string(),
            parent: node
                .path
                .parent()
                .unwrap_or_else(RemotePath::root)
                .to_string(),
            name: node.path.name().to_owned(),
            kind: match node.kind {
                NodeKind::File => FILE,
                NodeKind::Folder => FOLDER,
            }
            .to_owned(),
            size: stored_size(node.size)?,
            sha256: node.sha256.as_ref().map(|sha| sha.as_str().to_owned()),
            blob_key: node.blob_key.as_ref().map(|key| key.as_str().to_owned()),
            modified_at: micros(node.modified_at),
        })
    }

    /// The node the row holds.
    pub fn into_node(self) -> Result<Node> {
        let kind = match self.kind.as_str() {
            FILE => NodeKind::File,
            FOLDER => NodeKind::Folder,
            other => return Err(corrupt("kind", other)),
        };
        Ok(Node {
            id: uuid(&self.id)?,
            owner: uuid(&self.owner_id)?,
            path: path(&self.path)?,
            kind,
            size: size(self.size)?,
            sha256: self.sha256.as_deref().map(sha256).transpose()?,
            blob_key: self.blob_key.as_deref().map(blob_key).transpose()?,
            modified_at: time(self.modified_at)?,
        })
    }
}

impl UploadRow {
    /// The row for `upload`.
    pub fn from_upload(upload: &Upload) -> Result<Self> {
        Ok(Self {
            id: upload.id.to_string(),
            owner_id: upload.owner.to_string(),
            path: upload.path.to_string(),
            size: stored_size(upload.size)?,
            sha256: upload.sha256.as_ref().map(|sha| sha.as_str().to_owned()),
            overwrite: overwrite_text(upload.overwrite).to_owned(),
            part_size: stored_size(upload.part_size)?,
            blob_key: upload.blob_key.as_str().to_owned(),
            staging_id: upload.staging_id.as_str().to_owned(),
            created_at: micros(upload.created_at),
            expires_at: micros(upload.expires_at),
            grant_id: upload.grant.map(|grant| grant.to_string()),
            active_at: micros(upload.created_at),
            stored_bytes: 0,
        })
    }

    /// The session the row holds.
    pub fn into_upload(self) -> Result<Upload> {
        let overwrite = match self.overwrite.as_str() {
            "fail" => OverwritePolicy::Fail,
            "replace" => OverwritePolicy::Replace,
            other => return Err(corrupt("overwrite policy", other)),
        };
        Ok(Upload {
            id: uuid(&self.id)?,
            owner: uuid(&self.owner_id)?,
            path: path(&self.path)?,
            size: size(self.size)?,
            sha256: self.sha256.as_deref().map(sha256).transpose()?,
            overwrite,
            part_size: size(self.part_size)?,
            blob_key: blob_key(&self.blob_key)?,
            staging_id: StagingId(self.staging_id),
            created_at: time(self.created_at)?,
            expires_at: time(self.expires_at)?,
            grant: self.grant_id.as_deref().map(uuid).transpose()?,
        })
    }
}
