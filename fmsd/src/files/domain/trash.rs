//! The trash: what a delete moved out of an owner's tree, until it is restored, deleted for
//! good, or purged once older than `files.trash_retention_days`. Plain data, and the one rule
//! of the names a restore picks when the old path is taken.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Link, NodeKind, RemotePath, Removal, Share};
use crate::error::Error;

/// One trashed entry: a file, or a folder with everything that was in it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrashItem {
    /// Its id in the trash (a UUIDv7 made when it was trashed, so ids sort by age).
    pub id: Uuid,
    /// Whose trash: the tree's owner, whoever deleted it.
    pub owner: Uuid,
    /// The id the entry had in the tree, and has again once restored.
    pub node_id: Uuid,
    /// Where it was.
    pub path: RemotePath,
    /// File or folder.
    pub kind: NodeKind,
    /// Bytes of its files: what it holds of the quota.
    pub size: u64,
    /// Files in it (1 for a file).
    pub n_files: u64,
    /// Folders in it, itself included.
    pub n_folders: u64,
    /// When it was trashed.
    pub trashed_at: DateTime<Utc>,
    /// Who deleted it: the owner, or an editor of a share of the owner's.
    pub trashed_by: Uuid,
}

/// What moving an entry into the trash did.
#[derive(Debug, Clone, PartialEq)]
pub struct Trashed {
    /// The new item of the trash.
    pub item: TrashItem,
    /// The shares of the trashed entries, which ended with the move (a restore does not bring
    /// them back).
    pub ended_shares: Vec<Share>,
    /// The links to the trashed entries, which ended with the move.
    pub ended_links: Vec<Link>,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// The item as it was in the trash (its `path` is where it was deleted from).
    pub item: TrashItem,
    /// The entry back in the tree, where it now is.
    pub node: super::Node,
    /// Folders the restore made because the item's parent was gone.
    pub n_parents_made: u64,
}

/// Which items of an owner's trash to delete for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrashSelection {
    /// One item (not found if it is not in the owner's trash).
    Item(Uuid),
    /// Every item: emptying the trash.
    All,
    /// Every item trashed at or before this time: the retention sweep.
    TrashedBefore(DateTime<Utc>),
}

/// What deleting items of the trash for good did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrashPurge {
    /// The items that went, oldest first.
    pub items: Vec<TrashItem>,
    /// Their files, folders, bytes and the garbage their blobs left.
    pub removal: Removal,
}

/// Where a restore puts an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreTarget {
    /// Where it was deleted from, or, when that is taken, the first free of
    /// `name (2).ext`, `name (3).ext`, … beside it.
    Original,
    /// Exactly this path, which must be free (else a conflict).
    At(RemotePath),
}

/// How many numbered names a restore tries before it gives up.
pub const MAX_RESTORE_NAMES: u32 = 1000;

/// `name.ext` as (`name`, `.ext`); a leading dot is part of the name (`.bashrc`).
pub fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(at) if at > 0 => (&name[..at], &name[at..]),
        _ => (name, ""),
    }
}

/// The `n`th name for `name` when it is taken: `report (2).pdf` for a file, `photos (2)` for a
/// folder (whose dots are part of its name).
pub fn numbered_name(name: &str, kind: NodeKind, n: u32) -> String {
    match kind {
        NodeKind::File => {
            let (stem, extension) = split_extension(name);
            format!("{stem} ({n}){extension}")
        }
        NodeKind::Folder => format!("{name} ({n})"),
    }
}

/// The `n`th path a restore tries for `original`: itself first (`n` = 1), then numbered names
/// in the same folder.
pub fn restore_candidate(
    original: &RemotePath,
    kind: NodeKind,
    n: u32,
) -> Result<RemotePath, Error> {
    if n <= 1 {
        return Ok(original.clone());
    }
    let parent = original.parent().unwrap_or_else(RemotePath::root);
    parent.join(&numbered_name(original.name(), kind, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_keep_a_file_extension_and_a_folder_name_whole() {
        assert_eq!(numbered_name("a.txt", NodeKind::File, 2), "a (2).txt");
        assert_eq!(numbered_name("a.tar.gz", NodeKind::File, 3), "a.tar (3).gz");
        assert_eq!(numbered_name(".bashrc", NodeKind::File, 2), ".bashrc (2)");
        assert_eq!(numbered_name("noext", NodeKind::File, 2), "noext (2)");
        assert_eq!(numbered_name("v1.2", NodeKind::Folder, 2), "v1.2 (2)");
        let original = RemotePath::parse("/docs/a.txt").unwrap();
        assert_eq!(
            restore_candidate(&original, NodeKind::File, 1).unwrap(),
            original
        );
        assert_eq!(
            restore_candidate(&original, NodeKind::File, 2)
                .unwrap()
                .as_str(),
            "/docs/a (2).txt"
        );
    }
}
