//! The records the service and its ports exchange: entries of the tree, upload sessions, what
//! the blob store reports, and the clean-up a change leaves behind. Plain data; the values in
//! them were checked when they were built.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{BlobKey, PartPlan, RemotePath, Sha256Hex, StagingId};

/// A part the blob store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredPart {
    /// 1-based part number.
    pub number: u32,
    /// Bytes held.
    pub size: u64,
}

/// What the blob store assembled from the parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledBlob {
    /// Bytes in the blob.
    pub size: u64,
    /// Their SHA-256.
    pub sha256: Sha256Hex,
}

/// File or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Bytes in a blob.
    File,
    /// A folder.
    Folder,
}

/// A file or folder in an owner's tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Stable id (kept across moves).
    pub id: Uuid,
    /// Whose tree.
    pub owner: Uuid,
    /// Where.
    pub path: RemotePath,
    /// File or folder.
    pub kind: NodeKind,
    /// Bytes (0 for a folder).
    pub size: u64,
    /// SHA-256 of a file's bytes.
    pub sha256: Option<Sha256Hex>,
    /// Where a file's bytes are.
    pub blob_key: Option<BlobKey>,
    /// When it last changed.
    pub modified_at: DateTime<Utc>,
}

impl Node {
    /// The implicit root folder of `owner`'s tree.
    pub fn root(owner: Uuid, now: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::nil(),
            owner,
            path: RemotePath::root(),
            kind: NodeKind::Folder,
            size: 0,
            sha256: None,
            blob_key: None,
            modified_at: now,
        }
    }

    /// Whether it is a folder.
    pub fn is_folder(&self) -> bool {
        self.kind == NodeKind::Folder
    }
}

/// What to do at complete when the path already holds a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverwritePolicy {
    /// Refuse with a conflict.
    #[default]
    Fail,
    /// Replace the file atomically.
    Replace,
}

/// An upload session: a file being uploaded in parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// Its id, also the key a client resumes it by.
    pub id: Uuid,
    /// Who uploads.
    pub owner: Uuid,
    /// Where the file will be.
    pub path: RemotePath,
    /// The announced size.
    pub size: u64,
    /// The announced SHA-256, if any.
    pub sha256: Option<Sha256Hex>,
    /// What to do if a file is there at complete.
    pub overwrite: OverwritePolicy,
    /// Size of every part but the last.
    pub part_size: u64,
    /// The blob the bytes will become.
    pub blob_key: BlobKey,
    /// The blob store's staging of the parts.
    pub staging_id: StagingId,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it is swept if not completed.
    pub expires_at: DateTime<Utc>,
    /// The share or link it was started through; `None` for the owner's own. Only that
    /// share's recipient or that link's holders reach it.
    pub grant: Option<Uuid>,
}

impl Upload {
    /// How the file is cut into parts.
    pub fn plan(&self) -> PartPlan {
        PartPlan {
            size: self.size,
            part_size: self.part_size,
        }
    }
}

/// Blob-store work left over from a committed change: a blob to delete and, for an upload
/// that never completed, its staging to abort. Recorded in the same transaction as the change
/// so a crash before the clean-up only delays it.
#[derive(Debug, Clone, PartialEq)]
pub struct Garbage {
    /// Its id in the repo, to forget it once done.
    pub id: i64,
    /// The blob to delete (deleting a missing blob is fine).
    pub blob_key: BlobKey,
    /// The staging to abort, if any.
    pub staging_id: Option<StagingId>,
}

/// What a delete or a purge removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Removal {
    /// Files removed.
    pub n_files: u64,
    /// Folders removed.
    pub n_folders: u64,
    /// Bytes of the removed files.
    pub bytes_freed: u64,
    /// The blobs and stagings to clean up now that the change is committed.
    pub garbage: Vec<Garbage>,
    /// The shares of removed items, which went with them.
    pub ended_shares: Vec<super::Share>,
    /// The links to removed items, which went with them.
    pub ended_links: Vec<super::Link>,
}

/// An owner's storage, as the repo counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageCounts {
    /// Bytes in files of the tree.
    pub used_bytes: u64,
    /// Bytes in files of the trash, which count against the quota too.
    pub trash_bytes: u64,
    /// Items in the trash.
    pub n_trashed: u64,
    /// Bytes announced by unexpired upload sessions.
    pub reserved_bytes: u64,
    /// Number of files.
    pub n_files: u64,
    /// Number of folders.
    pub n_folders: u64,
}

impl UsageCounts {
    /// What the owner stores, tree and trash: what the quota is counted against, with the
    /// reservations of open sessions.
    pub fn stored_bytes(&self) -> u64 {
        self.used_bytes.saturating_add(self.trash_bytes)
    }
}
