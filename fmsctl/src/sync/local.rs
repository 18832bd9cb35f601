//! The local side of a sync: a tree read as a [`Listing`], and [`LocalRoot`], through which
//! every write under a local destination goes.
//!
//! Names come from the server. Before one becomes a local path, [`check_name`] refuses what
//! could climb out (`..`, `.`, an empty segment, which is how an absolute name shows) or cut the
//! path short (NUL). And no write follows a symlink: every folder on the way is looked at with
//! `lstat`; a symlink, fifo or device where a folder or file belongs is removed (the link,
//! never what it points to) and a real folder or file is made in its place, so a symlink
//! inside the destination pointing outside cannot lead a write there. Only the root itself,
//! which the user named, may be a symlink.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use unicode_normalization::UnicodeNormalization;

use super::{Listing, Node};
use crate::error::{ConflictError, UsageError};
use crate::hash_cache::Stamp;
use crate::transfer::download::part_path_for;

/// How a walk treats symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The source of an upload: a symlink to a file is that file (as `upload -r` does); a
    /// symlinked folder, a broken symlink and special files are skipped and reported.
    Source,
    /// A destination: nothing is followed; symlinks and special files are [`Node::Other`].
    Destination,
}

/// Reads the tree under `root` (which must be a folder, or missing for a destination);
/// `skipped` receives what a source cannot send.
pub fn walk(root: &Path, role: Role, skipped: &mut Vec<String>) -> anyhow::Result<Listing> {
    let mut listing = Listing::new();
    match fs::metadata(root) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => {
            return Err(UsageError(format!(
                "{} is not a folder: sync copies folders (`fmsctl upload` and `fmsctl \
                 download` take single files)",
                root.display()
            ))
            .into())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && role == Role::Destination => {
            return Ok(listing)
        }
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", root.display())),
    }
    descend(root, root, "", role, &mut listing, skipped)?;
    Ok(listing)
}

fn descend(
    root: &Path,
    dir: &Path,
    prefix: &str,
    role: Role,
    listing: &mut Listing,
    skipped: &mut Vec<String>,
) -> anyhow::Result<()> {
    let entries = fs::read_dir(dir)
        .with_context(|| format!("failed to list {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("failed to list {}", dir.display()))?;
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            skipped.push(format!("{} (the name is not valid UTF-8)", path.display()));
            continue;
        };
        // A source's names are compared in NFC, the spelling the server keeps.
        let key_name = match role {
            Role::Source => name.nfc().collect::<String>(),
            Role::Destination => name.clone(),
        };
        let relative = if prefix.is_empty() {
            key_name
        } else {
            format!("{prefix}/{key_name}")
        };
        if listing.contains_key(&relative) {
            skipped.push(format!(
                "{} (another name here is the same in NFC, as the server keeps names)",
                path.display()
            ));
            continue;
        }
        let file_type = entry
            .file_type()
            .with_context(|| format!("failed to inspect {}", path.display()))?;
        if file_type.is_dir() {
            listing.insert(relative.clone(), Node::Folder);
            descend(root, &path, &relative, role, listing, skipped)?;
            continue;
        }
        let metadata = match role {
            Role::Destination if !file_type.is_file() => {
                listing.insert(relative, Node::Other);
                continue;
            }
            Role::Destination => entry.metadata(),
            // Follow a symlink only to a file: a symlinked folder could loop.
            Role::Source => fs::metadata(&path),
        };
        let metadata = match metadata {
            Ok(metadata) => metadata,
            Err(_) if file_type.is_symlink() => {
                skipped.push(format!("{} (broken symlink)", path.display()));
                continue;
            }
            Err(error) => {
                return Err(error).with_context(|| format!("failed to inspect {}", path.display()))
            }
        };
        if metadata.is_file() {
            let mut node = file_node(&metadata);
            let actual = path
                .strip_prefix(root)
                .ok()
                .and_then(Path::to_str)
                .map(str::to_owned);
            if let (Node::File { spelled, .. }, Some(actual)) = (&mut node, actual) {
                if actual != relative {
                    *spelled = Some(actual);
                }
            }
            listing.insert(relative, node);
        } else if metadata.is_dir() {
            skipped.push(format!("{} (symlink to a folder)", path.display()));
        } else {
            skipped.push(format!("{} (not a regular file)", path.display()));
        }
    }
    Ok(())
}

fn file_node(metadata: &fs::Metadata) -> Node {
    Node::File {
        size: metadata.len(),
        sha256: None,
        stamp: Some(Stamp::of(metadata)),
        spelled: None,
    }
}

/// What a destination holds at the paths of `wanted` only (parents first, as a [`Listing`]
/// iterates), without following symlinks: for a copy that deletes nothing, so the rest of the
/// destination need not be read. Below anything that is not a folder there is nothing.
pub fn probe<'a>(root: &Path, wanted: impl Iterator<Item = &'a String>) -> Listing {
    let mut found = Listing::new();
    for path in wanted {
        let parent_is_folder = match path.rsplit_once('/') {
            None => true,
            Some((parent, _)) => found.get(parent) == Some(&Node::Folder),
        };
        if !parent_is_folder || check_path(path).is_err() {
            continue;
        }
        let Ok(metadata) = fs::symlink_metadata(root.join(path)) else {
            continue;
        };
        let node = if metadata.is_dir() {
            Node::Folder
        } else if metadata.is_file() {
            file_node(&metadata)
        } else {
            Node::Other
        };
        found.insert(path.clone(), node);
    }
    found
}

/// A name the server sent is refused if it could lead out of the destination or cut a path.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        bail!("the server sent the unusable name {name:?}: not written");
    }
    Ok(())
}

/// Every segment of the relative `path` passes [`check_name`].
pub fn check_path(path: &str) -> anyhow::Result<()> {
    path.split('/').try_for_each(check_name)
}

/// A local destination folder; every write under it goes through here.
#[derive(Debug, Clone)]
pub struct LocalRoot {
    /// The folder, absolute (the symlink the user may have named is resolved once, here).
    root: PathBuf,
}

impl LocalRoot {
    /// The folder `root`, made if missing.
    pub fn create(root: &Path) -> anyhow::Result<Self> {
        if root.exists() && !root.is_dir() {
            return Err(UsageError(format!(
                "{} is not a folder: the copy goes into a folder",
                root.display()
            ))
            .into());
        }
        fs::create_dir_all(root).with_context(|| format!("failed to create {}", root.display()))?;
        let root = fs::canonicalize(root)
            .with_context(|| format!("failed to resolve {}", root.display()))?;
        Ok(Self { root })
    }

    /// The folder itself.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Makes the relative `path` a real folder, each folder on the way too: a symlink or
    /// special file in the way is replaced, a regular file is a conflict.
    pub fn folder(&self, path: &str) -> anyhow::Result<PathBuf> {
        check_path(path)?;
        let mut at = self.root.clone();
        for name in path.split('/') {
            at.push(name);
            match fs::symlink_metadata(&at) {
                Ok(metadata) if metadata.is_dir() => continue,
                Ok(metadata) if metadata.is_file() => {
                    return Err(ConflictError(format!(
                        "{} is a file where a folder belongs (--delete replaces it)",
                        at.display()
                    ))
                    .into())
                }
                Ok(_) => replace(&at)?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(error)
                        .with_context(|| format!("failed to inspect {}", at.display()))
                }
            }
            match fs::create_dir(&at) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && at.is_dir() => {}
                Err(error) => {
                    return Err(error).with_context(|| format!("failed to create {}", at.display()))
                }
            }
        }
        Ok(at)
    }

    /// Where the file at the relative `path` goes, its folders made real: a symlink or special
    /// file at the target (or at its `.part`) is removed so the download writes a new regular
    /// file, never through the link.
    pub fn file_target(&self, path: &str) -> anyhow::Result<PathBuf> {
        check_path(path)?;
        let folder = match path.rsplit_once('/') {
            Some((parent, _)) => self.folder(parent)?,
            None => self.root.clone(),
        };
        let name = path.rsplit('/').next().unwrap_or(path);
        let target = folder.join(name);
        for candidate in [target.clone(), part_path_for(&target)] {
            match fs::symlink_metadata(&candidate) {
                Ok(metadata) if metadata.is_dir() => {
                    return Err(ConflictError(format!(
                        "{} is a folder where a file belongs (--delete replaces it)",
                        candidate.display()
                    ))
                    .into())
                }
                Ok(metadata) if !metadata.is_file() => replace(&candidate)?,
                _ => {}
            }
        }
        Ok(target)
    }

    /// Deletes the relative `path` (a folder with everything in it), never following a symlink
    /// on the way: if a folder above it is not a real folder, nothing is deleted.
    pub fn remove(&self, path: &str) -> anyhow::Result<()> {
        check_path(path)?;
        let mut at = self.root.clone();
        let names: Vec<&str> = path.split('/').collect();
        let (last, parents) = names.split_last().context("an empty path")?;
        for name in parents {
            at.push(name);
            let metadata = fs::symlink_metadata(&at)
                .with_context(|| format!("failed to inspect {}", at.display()))?;
            if !metadata.is_dir() {
                bail!("{} is not a folder: nothing under it deleted", at.display());
            }
        }
        at.push(last);
        let metadata = match fs::symlink_metadata(&at) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => {
                return Err(error).with_context(|| format!("failed to inspect {}", at.display()))
            }
        };
        // `remove_dir_all` does not follow symlinks inside the folder either.
        let removed = if metadata.is_dir() {
            fs::remove_dir_all(&at)
        } else {
            fs::remove_file(&at)
        };
        removed.with_context(|| format!("failed to delete {}", at.display()))
    }
}

/// Removes the symlink or special file at `path` (the entry, not what it points to).
fn replace(path: &Path) -> anyhow::Result<()> {
    tracing::info!(path = %path.display(), "replacing a symlink or special file");
    fs::remove_file(path).with_context(|| format!("failed to replace {}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn names_that_climb_out_are_refused() {
        for bad in ["..", ".", "", "a/b", "a\0b"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_path("a/../b").is_err());
        assert!(check_path("/etc/passwd").is_err());
        assert!(check_path("a/b c/ü.txt").is_ok());
    }

    #[test]
    fn a_symlink_inside_the_destination_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("victim.txt"), b"keep").unwrap();
        let root = LocalRoot::create(&dir.path().join("dst")).unwrap();
        symlink(&outside, root.path().join("sub")).unwrap();
        symlink(outside.join("victim.txt"), root.path().join("file.txt")).unwrap();

        let target = root.file_target("sub/victim.txt").unwrap();
        assert_eq!(target, root.path().join("sub/victim.txt"));
        assert!(fs::symlink_metadata(root.path().join("sub"))
            .unwrap()
            .is_dir());
        let target = root.file_target("file.txt").unwrap();
        assert!(!target.exists());
        assert_eq!(fs::read(outside.join("victim.txt")).unwrap(), b"keep");

        symlink(&outside, root.path().join("gone")).unwrap();
        root.remove("gone").unwrap();
        assert!(outside.join("victim.txt").exists());
        assert!(root.file_target("../x").is_err());
    }

    #[test]
    fn a_source_name_is_compared_in_nfc_and_read_where_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let nfd = "cafe\u{301}";
        fs::create_dir(dir.path().join(nfd)).unwrap();
        fs::write(dir.path().join(nfd).join("a.txt"), b"a").unwrap();
        let mut skipped = Vec::new();
        let listing = walk(dir.path(), Role::Source, &mut skipped).unwrap();
        let keys: Vec<&str> = listing.keys().map(String::as_str).collect();
        assert_eq!(keys, ["caf\u{e9}", "caf\u{e9}/a.txt"]);
        let file = &listing["caf\u{e9}/a.txt"];
        assert_eq!(
            super::super::local_path("caf\u{e9}/a.txt", file),
            format!("{nfd}/a.txt")
        );
    }

    #[test]
    fn walks_tell_sources_from_destinations() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/empty")).unwrap();
        fs::write(root.join("a/f.txt"), b"abc").unwrap();
        symlink(root.join("a/f.txt"), root.join("link.txt")).unwrap();
        symlink(root.join("a"), root.join("folder-link")).unwrap();

        let mut skipped = Vec::new();
        let source = walk(root, Role::Source, &mut skipped).unwrap();
        let keys: Vec<&str> = source.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", "a/empty", "a/f.txt", "link.txt"]);
        assert_eq!(skipped.len(), 1);

        let destination = walk(root, Role::Destination, &mut skipped).unwrap();
        assert_eq!(destination["link.txt"], Node::Other);
        assert_eq!(destination["folder-link"], Node::Other);
        let probed = probe(
            root,
            ["a".to_string(), "a/f.txt".into(), "folder-link".into()].iter(),
        );
        assert_eq!(probed.len(), 3);
        assert_eq!(probed["folder-link"], Node::Other);
    }
}
