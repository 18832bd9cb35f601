//! What WebDAV shows of a node: size, times, whether it is a collection, and an ETag that
//! changes exactly when the content does (a file's SHA-256; a folder's modification time).

use std::time::SystemTime;

use dav_server::fs::{DavDirEntry, DavMetaData, FsError, FsFuture, FsResult};
use futures::FutureExt;

use crate::error::Error;
use crate::files::domain::Node;

/// A node's metadata as `dav-server` reads it.
#[derive(Debug, Clone)]
pub struct NodeMeta {
    /// Bytes (0 for a folder).
    size: u64,
    /// When it last changed.
    modified: SystemTime,
    /// A folder (or the virtual `shared` folder).
    is_dir: bool,
    /// The file's SHA-256, which is its ETag.
    sha256: Option<String>,
}

impl NodeMeta {
    /// The metadata of `node`.
    pub fn of(node: &Node) -> Self {
        Self {
            size: node.size,
            modified: node.modified_at.into(),
            is_dir: node.is_folder(),
            sha256: node.sha256.as_ref().map(|sha| sha.as_str().to_owned()),
        }
    }

    /// A folder that is no node of anyone's tree (`/shared`).
    pub fn virtual_folder(modified: SystemTime) -> Self {
        Self {
            size: 0,
            modified,
            is_dir: true,
            sha256: None,
        }
    }
}

impl DavMetaData for NodeMeta {
    fn len(&self) -> u64 {
        self.size
    }

    fn modified(&self) -> FsResult<SystemTime> {
        Ok(self.modified)
    }

    fn is_dir(&self) -> bool {
        self.is_dir
    }

    fn etag(&self) -> Option<String> {
        match &self.sha256 {
            Some(sha) => Some(sha[..32].to_owned()),
            None => {
                let micros = self
                    .modified
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |since| since.as_micros());
                Some(format!("d-{micros:x}"))
            }
        }
    }
}

/// An entry of a folder listing.
#[derive(Debug)]
pub struct Entry {
    /// Its name.
    pub name: String,
    /// Its metadata, read with the listing.
    pub meta: NodeMeta,
}

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.name.as_bytes().to_vec()
    }

    fn metadata(&self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        async move { Ok(meta) }.boxed()
    }
}

/// The WebDAV answer for a service error: each becomes the status RFC 4918 (and 4331 for a
/// full quota) gives for it; what the service could not do at all is a 500.
pub fn fs_error(error: &Error) -> FsError {
    match error {
        Error::NotFound(_) | Error::Gone(_) => FsError::NotFound,
        Error::Forbidden(_) | Error::Unauthorized(_) | Error::Invalid(_) => FsError::Forbidden,
        Error::Conflict(_) => FsError::Exists,
        Error::TooLarge(_) => FsError::TooLarge,
        Error::QuotaExceeded(_) | Error::InsufficientStorage(_) => FsError::InsufficientStorage,
        Error::Integrity(_)
        | Error::TimedOut(_)
        | Error::RateLimited { .. }
        | Error::Unavailable(_)
        | Error::Internal(_) => {
            tracing::warn!(error = %error.report(), "a WebDAV request failed");
            FsError::GeneralFailure
        }
    }
}
