//! What WebDAV keeps beside the tree: dead properties of a node, and locks on paths (which may
//! name nothing yet: a lock reserves a name). Locks are kept in the files database, so every
//! instance of a stack sees the same ones; [`first_conflict`] is the one rule they obey.

use chrono::{DateTime, Utc};

use super::RemotePath;

/// A property a client set on a node (RFC 4918 "dead" property), kept as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadProp {
    /// Its XML namespace (empty for none).
    pub namespace: String,
    /// Its local name.
    pub name: String,
    /// The property element, serialised.
    pub xml: Vec<u8>,
}

/// A WebDAV lock on a path of an owner's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DavLockRecord {
    /// The lock token (`urn:uuid:…`).
    pub token: String,
    /// Whose tree.
    pub owner: uuid::Uuid,
    /// What it locks, in the owner's tree.
    pub path: RemotePath,
    /// Who took it (the caller's id), which a submitted token must match.
    pub principal: Option<String>,
    /// The client's `<owner>` element, serialised.
    pub owner_xml: Option<String>,
    /// When it ends; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// The timeout it was taken or refreshed with, in seconds.
    pub timeout_secs: Option<u64>,
    /// A shared lock (else exclusive).
    pub shared: bool,
    /// Depth infinity: it covers everything below `path` too.
    pub deep: bool,
}

impl DavLockRecord {
    /// Whether this lock covers `path`: it is the locked path, or below a deep lock.
    pub fn covers(&self, path: &RemotePath) -> bool {
        *path == self.path || (self.deep && path.starts_with(&self.path))
    }
}

/// The first of `held` that keeps a new lock on `path` (`deep`, `shared`) from being taken:
/// one covering `path`, or (for a deep one) lying below it, unless both are shared.
pub fn first_conflict<'a>(
    held: &'a [DavLockRecord],
    path: &RemotePath,
    deep: bool,
    shared: bool,
) -> Option<&'a DavLockRecord> {
    held.iter().find(|lock| {
        let related = lock.covers(path) || (deep && lock.path.starts_with(path));
        related && !(lock.shared && shared)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(path: &str, deep: bool, shared: bool) -> DavLockRecord {
        DavLockRecord {
            token: format!("urn:uuid:{path}"),
            owner: uuid::Uuid::nil(),
            path: RemotePath::parse(path).unwrap(),
            principal: None,
            owner_xml: None,
            expires_at: None,
            timeout_secs: None,
            shared,
            deep,
        }
    }

    #[test]
    fn locks_conflict_along_the_path_unless_both_are_shared() {
        let path = |text| RemotePath::parse(text).unwrap();
        let held = [lock("/a", true, false)];
        assert!(first_conflict(&held, &path("/a/b"), false, false).is_some());
        assert!(first_conflict(&held, &path("/ab"), false, false).is_none());
        let shallow = [lock("/a", false, false)];
        assert!(first_conflict(&shallow, &path("/a/b"), false, false).is_none());
        assert!(first_conflict(&shallow, &path("/"), true, false).is_some());
        assert!(first_conflict(&shallow, &path("/"), false, false).is_none());
        let shared = [lock("/a", true, true)];
        assert!(first_conflict(&shared, &path("/a"), false, true).is_none());
        assert!(first_conflict(&shared, &path("/a"), false, false).is_some());
    }
}
