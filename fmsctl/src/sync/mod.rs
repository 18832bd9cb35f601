//! One-way tree copies: `fmsctl sync SRC DST` (either direction) and `fmsctl download -r`.
//!
//! Both sides become a [`Listing`] (relative path → [`Node`]); [`plan::compare`] says what to
//! create, transfer and delete to make the destination a copy of the source, comparing sizes and
//! SHA-256 (the server's from its listing, the local one through [`crate::hash_cache`], so an
//! unchanged file is not read again); [`pull`] and [`push`] carry a plan out with the download
//! and upload machinery of [`crate::transfer`], and [`report`] says what happened.
//!
//! - [`exclude`]: `--exclude GLOB`, over relative paths.
//! - [`local`]: a local tree read ([`local::walk`], [`local::probe`]) and written
//!   ([`local::LocalRoot`]): every name the server sends is checked before it becomes a local
//!   path, and nothing is ever written through a symlink inside the destination.
//! - [`remote`]: a remote tree read, with relative paths.
//!
//! **Invariant:** a write under a local destination goes through [`local::LocalRoot`].

pub mod exclude;
pub mod local;
pub mod plan;
pub mod pull;
pub mod push;
pub mod remote;
pub mod report;

use std::collections::BTreeMap;

use crate::hash_cache::Stamp;

/// One entry of a tree, as a sync compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A folder.
    Folder,
    /// A regular file.
    File {
        /// Bytes.
        size: u64,
        /// SHA-256, lowercase hex: the server's for a remote file; for a local one only once
        /// it is needed (a remote file of the same size to compare with).
        sha256: Option<String>,
        /// Size and mtime of a local file, for the hash cache.
        stamp: Option<Stamp>,
        /// A local source file's relative path when its spelling differs from the key: the
        /// key is in NFC, as the server keeps names, and the file may be named otherwise
        /// (macOS writes NFD), so it is read where it is but compared and sent under NFC.
        spelled: Option<String>,
    },
    /// At a local destination: a symlink, fifo, socket or device. Never followed or written
    /// through: replaced by what the source has there, or deleted with `--delete`.
    Other,
}

/// A tree: relative path (`a/b.txt`, `/`-separated, no leading slash) → entry. Sorted, so a
/// folder comes before everything in it.
pub type Listing = BTreeMap<String, Node>;

/// Where the file `node` at `path` is, relative to its local root.
pub fn local_path<'a>(path: &'a str, node: &'a Node) -> &'a str {
    match node {
        Node::File {
            spelled: Some(spelled),
            ..
        } => spelled,
        _ => path,
    }
}

/// The parents of `path`, nearest last: `a/b/c` → `a`, `a/b`.
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .map(move |(index, _)| &path[..index])
}

/// `base` joined with the relative `path`, as a remote path.
pub fn remote_join(base: &str, path: &str) -> String {
    if path.is_empty() {
        return base.to_owned();
    }
    crate::remote_path::join(base, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_come_outermost_first() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert!(ancestors("a").next().is_none());
        assert_eq!(remote_join("/", "a/b"), "/a/b");
        assert_eq!(remote_join("/x", "a/b"), "/x/a/b");
        assert_eq!(remote_join("/x", ""), "/x");
    }
}
