//! The remote side of a sync: a remote tree as a [`Listing`] of paths relative to its root.

use common::api::{Entry, EntryKind};

use super::{Listing, Node};
use crate::client::{AtPath, Client, Tree};
use crate::walk;

/// A remote entry the server listed under a name that cannot become a local path.
#[derive(Debug, Clone)]
pub struct Refused {
    /// The remote path as listed.
    pub remote: String,
}

/// The tree under the remote folder `root`, relative to it; `None` when there is no such
/// folder. Entries whose names fail [`super::local::check_path`] are returned apart.
pub async fn listing(
    client: &Client,
    tree: Tree,
    root: &str,
    shown: &str,
) -> anyhow::Result<Option<(Listing, Vec<Refused>)>> {
    let entries = match walk::tree(client, tree, root, None).await {
        Ok(entries) => entries,
        Err(error) if error.status() == Some(404) => return Ok(None),
        Err(error) => return Err(error).at_path(shown),
    };
    Ok(Some(relative(root, entries)))
}

/// `entries` with their paths made relative to `root`.
pub fn relative(root: &str, entries: Vec<Entry>) -> (Listing, Vec<Refused>) {
    let mut listing = Listing::new();
    let mut refused = Vec::new();
    let prefix = if root == "/" {
        "/".to_owned()
    } else {
        format!("{}/", root.trim_end_matches('/'))
    };
    for entry in entries {
        let Some(relative) = entry
            .path
            .strip_prefix(&prefix)
            .filter(|relative| super::local::check_path(relative).is_ok())
        else {
            refused.push(Refused { remote: entry.path });
            continue;
        };
        listing.insert(relative.to_owned(), node(&entry));
    }
    (listing, refused)
}

/// The entry as a sync compares it.
pub fn node(entry: &Entry) -> Node {
    match entry.kind {
        EntryKind::Folder => Node::Folder,
        EntryKind::File => Node::File {
            size: entry.size,
            sha256: entry.sha256.as_ref().map(|sha| sha.to_ascii_lowercase()),
            stamp: None,
            spelled: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn entry(path: &str, kind: EntryKind) -> Entry {
        Entry {
            path: path.into(),
            name: path.rsplit('/').next().unwrap().into(),
            kind,
            size: 1,
            sha256: None,
            modified_at: Utc::now(),
        }
    }

    #[test]
    fn paths_become_relative_and_unusable_names_are_refused() {
        let (listing, refused) = relative(
            "/photos",
            vec![
                entry("/photos/a", EntryKind::Folder),
                entry("/photos/a/b.jpg", EntryKind::File),
                entry("/photos/a/../../etc", EntryKind::File),
                entry("/elsewhere", EntryKind::File),
            ],
        );
        assert_eq!(
            listing.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a", "a/b.jpg"]
        );
        assert_eq!(refused.len(), 2);
        let (listing, _) = relative("/", vec![entry("/x", EntryKind::File)]);
        assert!(listing.contains_key("x"));
    }
}
