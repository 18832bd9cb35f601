//! The events the files service emits: the tree, the trash, sharing, links and the quota.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::topics;

/// A file became visible after an upload completed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileUploaded {
    /// The owner.
    pub owner_id: Uuid,
    /// The file's id.
    pub file_id: Uuid,
    /// Its path in the owner's tree.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}
event!(FileUploaded, topics::FILES, "files.uploaded", owner_id);

/// A file or folder was moved or renamed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileMoved {
    /// The owner.
    pub owner_id: Uuid,
    /// The path it had.
    pub from: String,
    /// The path it has now.
    pub to: String,
}
event!(FileMoved, topics::FILES, "files.moved", owner_id);

/// A file or folder (with everything in it) was deleted for good: its bytes are gone. Either
/// straight from the tree (a permanent delete) or from the trash (deleted there, the trash
/// emptied, or purged after `files.trash_retention_days`), which `from_trash` tells; an entry
/// that went into the trash first left the tree with [`FileTrashed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDeleted {
    /// The owner.
    pub owner_id: Uuid,
    /// The path it had in the tree (for an item of the trash: where it was deleted from).
    pub path: String,
    /// How many files went with it.
    pub n_files: u64,
    /// How many bytes were freed.
    pub bytes_freed: u64,
    /// Whether it was an item of the trash (so it had left the tree before).
    #[serde(default)]
    pub from_trash: bool,
}
event!(FileDeleted, topics::FILES, "files.deleted", owner_id);

/// A file or folder (with everything in it) was deleted into its owner's trash: it left the
/// tree, its shares and links ended, and its bytes still count against the quota until it is
/// restored ([`FileRestored`]) or deleted for good ([`FileDeleted`] with `from_trash`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileTrashed {
    /// The owner, whose trash holds it.
    pub owner_id: Uuid,
    /// Its id in the trash.
    pub trash_id: Uuid,
    /// The path it had.
    pub path: String,
    /// `file` or `folder`.
    pub kind: String,
    /// How many files it holds (1 for a file).
    pub n_files: u64,
    /// Bytes of its files.
    pub size: u64,
    /// Who deleted it: the owner, or an editor of a share.
    pub trashed_by: Uuid,
}
event!(FileTrashed, topics::FILES, "files.trashed", owner_id);

/// An item of the trash was put back into its owner's tree (without the shares and links it
/// had).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRestored {
    /// The owner.
    pub owner_id: Uuid,
    /// Its id in the trash, which it left.
    pub trash_id: Uuid,
    /// The path it was deleted from.
    pub from: String,
    /// The path it has now (the same, a numbered name beside it, or the one asked for).
    pub path: String,
    /// `file` or `folder`.
    pub kind: String,
    /// How many files it holds.
    pub n_files: u64,
    /// Bytes of its files.
    pub size: u64,
}
event!(FileRestored, topics::FILES, "files.restored", owner_id);

/// Everything a former customer stored was purged after their account was deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerPurged {
    /// The former customer.
    pub owner_id: Uuid,
    /// How many files were removed.
    pub n_files: u64,
    /// How many bytes were freed.
    pub bytes_freed: u64,
}
event!(OwnerPurged, topics::FILES, "files.owner_purged", owner_id);

/// An owner shared a file or folder with another customer; notifications tells the recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileShared {
    /// The share.
    pub share_id: Uuid,
    /// Who shared.
    pub owner_id: Uuid,
    /// The owner's display name.
    pub owner_name: String,
    /// The owner's e-mail address.
    pub owner_email: String,
    /// Who it is shared with.
    pub recipient_id: Uuid,
    /// Where the mail goes.
    pub recipient_email: String,
    /// How the mail greets them.
    pub recipient_name: String,
    /// The shared item's name.
    pub item_name: String,
    /// `file` or `folder`.
    pub kind: String,
    /// `viewer` or `editor`.
    pub role: String,
}
event!(FileShared, topics::FILES, "files.shared", owner_id);

/// A link expires within a day; notifications tells its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkExpiring {
    /// The link.
    pub link_id: Uuid,
    /// Its owner.
    pub owner_id: Uuid,
    /// Where the mail goes.
    pub owner_email: String,
    /// How the mail greets them.
    pub owner_name: String,
    /// The linked item's name.
    pub item_name: String,
    /// Its path in the owner's tree; missing in events written before it was added.
    #[serde(default)]
    pub item_path: Option<String>,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}
event!(LinkExpiring, topics::FILES, "files.link_expiring", owner_id);

/// Someone uploaded a file through a file-request link; notifications tells the owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkUploadReceived {
    /// The link.
    pub link_id: Uuid,
    /// The folder's owner.
    pub owner_id: Uuid,
    /// Where the mail goes.
    pub owner_email: String,
    /// How the mail greets them.
    pub owner_name: String,
    /// The folder's name.
    pub folder_name: String,
    /// The new file's name.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it landed in the owner's tree; missing in events written before it was added.
    #[serde(default)]
    pub path: Option<String>,
}
event!(
    LinkUploadReceived,
    topics::FILES,
    "files.link_upload_received",
    owner_id
);

/// A share ended: its owner revoked it, its recipient left it, or its item was deleted.
/// Notifications drops the mails about it that still wait for a digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareRevoked {
    /// The share.
    pub share_id: Uuid,
    /// Who had shared (the key, as for [`FileShared`], so the end follows the start).
    pub owner_id: Uuid,
    /// Who it was shared with.
    pub recipient_id: Uuid,
}
event!(ShareRevoked, topics::FILES, "files.share_revoked", owner_id);

/// A link ended before it expired: its owner revoked it, or its item was deleted.
/// Notifications drops the mails about it that still wait for a digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRevoked {
    /// The link.
    pub link_id: Uuid,
    /// Its owner (the key, as for [`LinkExpiring`]).
    pub owner_id: Uuid,
}
event!(LinkRevoked, topics::FILES, "files.link_revoked", owner_id);

/// An owner's stored bytes crossed 80 % or 100 % of their quota; notifications warns them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaThresholdReached {
    /// The owner.
    pub owner_id: Uuid,
    /// Where the mail goes.
    pub owner_email: String,
    /// How the mail greets them.
    pub owner_name: String,
    /// 80 or 100.
    pub percent: u8,
    /// Bytes stored now.
    pub used_bytes: u64,
    /// The quota.
    pub quota_bytes: u64,
}
event!(
    QuotaThresholdReached,
    topics::FILES,
    "files.quota_threshold_reached",
    owner_id
);
