//! What a sync does: [`compare`] two listings into a [`Plan`]. Pure, so the rules are tested
//! here; [`fill_local_hashes`] first gives the local files the SHA-256 the comparison needs.
//!
//! The rules: a folder the source has and the destination lacks is created; a file is sent
//! when the destination lacks it or holds other bytes (another size, or the same size and
//! another SHA-256); a symlink or special file at the destination is replaced. Where one side
//! has a file and the other a folder, only `--delete` replaces the destination's; without it
//! the path is a conflict and what lies below it is left alone. With `--delete`, what the
//! destination has beyond the source goes (the outermost entry only: a folder goes whole),
//! except the `NAME.part` of a file being transferred, which lets an interrupted download
//! resume.

use std::collections::HashSet;
use std::path::Path;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::{ancestors, Listing, Node};
use crate::hash_cache::HashCache;

/// Why a file is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The destination has nothing (or a symlink) there.
    New,
    /// The destination has other bytes there.
    Changed,
}

/// One file to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// Relative path.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Why.
    pub reason: Reason,
    /// Where a local source file is (relative): `path` but for a name not in NFC.
    #[serde(skip)]
    pub local_path: String,
}

/// What an entry is, in the plan's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A file.
    File,
    /// A folder, with everything in it.
    Folder,
    /// A symlink or special file.
    Other,
}

/// One entry to delete at the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deletion {
    /// Relative path.
    pub path: String,
    /// What it is.
    pub kind: Kind,
}

/// A path where the two sides disagree on file or folder and `--delete` was not given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// Relative path.
    pub path: String,
    /// What is in the way.
    pub message: String,
}

/// Everything a sync will do, in the order it does it: deletions, folders, transfers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Deleted first (extraneous entries, and entries of the wrong kind with `--delete`).
    pub deletions: Vec<Deletion>,
    /// Folders to create, parents first.
    pub folders: Vec<String>,
    /// Files to send.
    pub transfers: Vec<Transfer>,
    /// Paths left alone because file and folder disagree.
    pub conflicts: Vec<Conflict>,
    /// Files already the same on both sides.
    pub unchanged: u64,
}

impl Plan {
    /// The bytes of every transfer.
    pub fn transfer_bytes(&self) -> u64 {
        self.transfers.iter().map(|transfer| transfer.size).sum()
    }
}

/// The plan that makes `destination` a copy of `source`; `local_destination` spares the
/// `NAME.part` files of downloads to resume.
pub fn compare(
    source: &Listing,
    destination: &Listing,
    delete: bool,
    local_destination: bool,
) -> Plan {
    let mut plan = Plan::default();
    // Paths whose destination entry is deleted (everything below goes with it) and paths left
    // alone after a conflict (everything below is left alone too).
    let mut deleted: HashSet<&str> = HashSet::new();
    let mut blocked: HashSet<&str> = HashSet::new();
    for (path, wanted) in source {
        if ancestors(path).any(|parent| blocked.contains(parent)) {
            continue;
        }
        let there = destination
            .get(path)
            .filter(|_| !ancestors(path).any(|parent| deleted.contains(parent)));
        match (wanted, there) {
            (Node::Folder, Some(Node::Folder)) => {}
            (Node::Folder, None | Some(Node::Other)) => plan.folders.push(path.clone()),
            (Node::Folder, Some(Node::File { .. })) | (Node::File { .. }, Some(Node::Folder))
                if !delete =>
            {
                let (is, belongs) = match wanted {
                    Node::Folder => ("a file", "a folder"),
                    _ => ("a folder", "a file"),
                };
                plan.conflicts.push(Conflict {
                    path: path.clone(),
                    message: format!(
                        "{path}: the destination has {is} where {belongs} belongs; --delete \
                         replaces it"
                    ),
                });
                blocked.insert(path);
            }
            (Node::Folder, Some(Node::File { .. })) => {
                plan.deletions.push(Deletion {
                    path: path.clone(),
                    kind: Kind::File,
                });
                deleted.insert(path);
                plan.folders.push(path.clone());
            }
            (Node::File { .. }, Some(Node::Folder)) => {
                plan.deletions.push(Deletion {
                    path: path.clone(),
                    kind: Kind::Folder,
                });
                deleted.insert(path);
                plan.transfers.push(transfer(path, wanted, Reason::New));
            }
            (Node::File { .. }, None | Some(Node::Other)) => {
                plan.transfers.push(transfer(path, wanted, Reason::New));
            }
            (Node::File { .. }, Some(there @ Node::File { .. })) => {
                if same_bytes(wanted, there) {
                    plan.unchanged += 1;
                } else {
                    plan.transfers.push(transfer(path, wanted, Reason::Changed));
                }
            }
            // A source never lists symlinks or special files.
            (Node::Other, _) => {}
        }
    }
    if delete {
        for (path, there) in destination {
            if source.contains_key(path)
                || ancestors(path)
                    .any(|parent| deleted.contains(parent) || blocked.contains(parent))
                || (local_destination && resumable_part(path, source))
            {
                continue;
            }
            let kind = match there {
                Node::Folder => Kind::Folder,
                Node::File { .. } => Kind::File,
                Node::Other => Kind::Other,
            };
            plan.deletions.push(Deletion {
                path: path.clone(),
                kind,
            });
            deleted.insert(path);
        }
    }
    plan
}

fn transfer(path: &str, node: &Node, reason: Reason) -> Transfer {
    let size = match node {
        Node::File { size, .. } => *size,
        _ => 0,
    };
    Transfer {
        path: path.to_owned(),
        size,
        reason,
        local_path: super::local_path(path, node).to_owned(),
    }
}

/// Same size and the same SHA-256 (both known).
fn same_bytes(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (
            Node::File {
                size: size_a,
                sha256: Some(sha_a),
                ..
            },
            Node::File {
                size: size_b,
                sha256: Some(sha_b),
                ..
            },
        ) => size_a == size_b && sha_a.eq_ignore_ascii_case(sha_b),
        _ => false,
    }
}

/// `NAME.part` beside a file `NAME` the source has: an interrupted download's bytes.
fn resumable_part(path: &str, source: &Listing) -> bool {
    path.strip_suffix(".part")
        .and_then(|file| source.get(file))
        .is_some_and(|node| matches!(node, Node::File { .. }))
}

/// Gives every file of `local` (under `root`) that has a file of the same size at the same
/// path in `other` its SHA-256, from the hash cache or by reading it, a few at a time.
pub async fn fill_local_hashes(
    root: &Path,
    local: &mut Listing,
    other: &Listing,
    cache: &HashCache,
) -> anyhow::Result<()> {
    let needed: Vec<(String, String, crate::hash_cache::Stamp)> = local
        .iter()
        .filter_map(|(path, node)| match (node, other.get(path)) {
            (
                Node::File {
                    size,
                    sha256: None,
                    stamp: Some(stamp),
                    ..
                },
                Some(Node::File {
                    size: other_size, ..
                }),
            ) if size == other_size => Some((
                path.clone(),
                super::local_path(path, node).to_owned(),
                *stamp,
            )),
            _ => None,
        })
        .collect();
    let hashed: Vec<(String, String)> = futures::stream::iter(needed)
        .map(|(path, local_path, stamp)| async move {
            let sha256 = cache.sha256(&root.join(local_path), stamp).await?;
            anyhow::Ok((path, sha256))
        })
        .buffer_unordered(2)
        .try_collect()
        .await?;
    for (path, sha256) in hashed {
        if let Some(Node::File { sha256: slot, .. }) = local.get_mut(&path) {
            *slot = Some(sha256);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64, sha: &str) -> Node {
        Node::File {
            size,
            sha256: Some(sha.into()),
            stamp: None,
            spelled: None,
        }
    }

    fn listing(entries: &[(&str, Node)]) -> Listing {
        entries
            .iter()
            .map(|(path, node)| (path.to_string(), node.clone()))
            .collect()
    }

    #[test]
    fn new_and_changed_files_go_unchanged_ones_stay() {
        let source = listing(&[
            ("a", Node::Folder),
            ("a/new.txt", file(1, "x")),
            ("same.txt", file(2, "s")),
            ("size.txt", file(3, "t")),
            ("sha.txt", file(3, "u")),
            ("link.txt", file(1, "l")),
            ("empty", Node::Folder),
        ]);
        let destination = listing(&[
            ("same.txt", file(2, "S")),
            ("size.txt", file(4, "t")),
            ("sha.txt", file(3, "v")),
            ("link.txt", Node::Other),
            ("extra.txt", file(1, "e")),
        ]);
        let plan = compare(&source, &destination, false, true);
        assert_eq!(plan.folders, ["a", "empty"]);
        let sent: Vec<(&str, Reason)> = plan
            .transfers
            .iter()
            .map(|t| (t.path.as_str(), t.reason))
            .collect();
        assert_eq!(
            sent,
            [
                ("a/new.txt", Reason::New),
                ("link.txt", Reason::New),
                ("sha.txt", Reason::Changed),
                ("size.txt", Reason::Changed)
            ]
        );
        assert_eq!(plan.unchanged, 1);
        assert!(plan.deletions.is_empty());

        let plan = compare(&source, &destination, true, true);
        assert_eq!(
            plan.deletions,
            [Deletion {
                path: "extra.txt".into(),
                kind: Kind::File
            }]
        );
    }

    #[test]
    fn file_against_folder_needs_delete() {
        let source = listing(&[
            ("x", Node::Folder),
            ("x/in.txt", file(1, "i")),
            ("y", file(1, "y")),
        ]);
        let destination = listing(&[
            ("x", file(5, "f")),
            ("y", Node::Folder),
            ("y/old.txt", file(1, "o")),
        ]);
        let plan = compare(&source, &destination, false, true);
        assert_eq!(plan.conflicts.len(), 2);
        assert!(plan.transfers.is_empty() && plan.folders.is_empty());

        let plan = compare(&source, &destination, true, true);
        let deleted: Vec<&str> = plan.deletions.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(deleted, ["x", "y"]);
        assert_eq!(plan.folders, ["x"]);
        assert_eq!(plan.transfers.len(), 2);
        assert!(plan.conflicts.is_empty());
    }

    #[test]
    fn delete_takes_outermost_entries_and_spares_resumable_parts() {
        let source = listing(&[("big.bin", file(9, "b"))]);
        let destination = listing(&[
            ("big.bin.part", file(3, "p")),
            ("old", Node::Folder),
            ("old/a.txt", file(1, "a")),
            ("other.part", file(1, "o")),
        ]);
        let plan = compare(&source, &destination, true, true);
        let deleted: Vec<&str> = plan.deletions.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(deleted, ["old", "other.part"]);
    }
}
