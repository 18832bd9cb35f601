//! Where an upload goes ([`UploadTarget`]), where a tree is read from ([`Origin`]) and where a
//! download gets its signed URL ([`DownloadSource`]), so [`crate::transfer`], [`crate::walk`]
//! and [`crate::sync`] move bytes the same way whether the file is the caller's own, inside a
//! share, or behind a public link.

use common::api::sharing::{LinkUploadRequest, LinkUploadSession, ReceivedFile};
use common::api::{
    CreateUploadRequest, DownloadLink, Entry, EntryKind, Listing, Overwrite, UploadSession,
};
use uuid::Uuid;

use super::{Client, ClientError, LinkAccess, Tree};
use crate::remote_path;

/// Where an upload goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadTarget {
    /// A path in the caller's own tree or inside a share (login needed).
    Tree(Tree),
    /// A file request (no login): each file goes into the link's folder under its own name,
    /// or a free variant of it that the server picks and does not tell. Its sessions and
    /// entries carry the path the upload asked for.
    Link(LinkAccess),
}

impl UploadTarget {
    /// What sets this target apart in the local records of unfinished uploads, besides the
    /// file and the remote path: the same path on another tree is another upload.
    pub fn record_scope(&self, server: &str) -> String {
        match self {
            Self::Tree(Tree::Own) => server.to_string(),
            Self::Tree(Tree::Shared(share_id)) => format!("{server} share={share_id}"),
            Self::Link(link) => link.url.clone(),
        }
    }
}

/// Where a tree of files is read from: a tree a login reaches, or a folder link (no login),
/// whose paths are relative to the linked folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The caller's own files, or a share.
    Tree(Tree),
    /// A folder link.
    Link(LinkAccess),
}

impl From<Tree> for Origin {
    fn from(tree: Tree) -> Self {
        Self::Tree(tree)
    }
}

impl From<&Origin> for Origin {
    fn from(origin: &Origin) -> Self {
        origin.clone()
    }
}

/// Where a download's signed URL comes from, again when it expires mid-way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadSource {
    /// A file in the caller's own tree or inside a share.
    Tree {
        /// Own, or the share.
        tree: Tree,
        /// The file's path in that tree.
        path: String,
    },
    /// A public link: every new URL counts as one more download of the link.
    Link {
        /// The link.
        link: LinkAccess,
        /// The file inside a folder link; `None` for a link to a file.
        path: Option<String>,
    },
}

impl DownloadSource {
    /// The file at `path` of `origin`.
    pub fn at(origin: &Origin, path: &str) -> Self {
        match origin {
            Origin::Tree(tree) => Self::Tree {
                tree: *tree,
                path: path.to_owned(),
            },
            Origin::Link(link) => Self::Link {
                link: link.clone(),
                path: Some(path.to_owned()),
            },
        }
    }
}

impl Client {
    /// Starts (or, in a tree, resumes) the upload of `size` bytes to `path`; the flag says
    /// whether the server resumed an unfinished session.
    pub async fn start_upload(
        &self,
        target: &UploadTarget,
        path: &str,
        size: u64,
        overwrite: Overwrite,
    ) -> Result<(UploadSession, bool), ClientError> {
        match target {
            UploadTarget::Tree(tree) => {
                let request = CreateUploadRequest {
                    path: path.to_string(),
                    size,
                    sha256: None,
                    overwrite,
                    // Parts go with the headers their URLs name (on S3, their checksums).
                    part_headers: true,
                };
                self.create_upload(*tree, &request).await
            }
            UploadTarget::Link(link) => {
                let request = LinkUploadRequest {
                    name: remote_path::file_name(path).to_string(),
                    size,
                    sha256: None,
                };
                let session = self.link_create_upload(link, &request).await?;
                Ok((as_session(session, path), false))
            }
        }
    }

    /// The session `upload_id` (an upload to `path`) with fresh part URLs.
    pub async fn upload_session_at(
        &self,
        target: &UploadTarget,
        upload_id: Uuid,
        path: &str,
    ) -> Result<UploadSession, ClientError> {
        match target {
            UploadTarget::Tree(tree) => self.upload_session(*tree, upload_id).await,
            UploadTarget::Link(link) => {
                let session = self.link_upload_session(link, upload_id).await?;
                Ok(as_session(session, path))
            }
        }
    }

    /// Completes `session`, which the server checks against `sha256`.
    pub async fn complete_upload_at(
        &self,
        target: &UploadTarget,
        session: &UploadSession,
        sha256: &str,
    ) -> Result<Entry, ClientError> {
        let upload_id = session.upload_id;
        match target {
            UploadTarget::Tree(tree) => self.complete_upload(*tree, upload_id, sha256).await,
            UploadTarget::Link(link) => {
                let received = self.link_complete_upload(link, upload_id, sha256).await?;
                Ok(as_entry(received, &session.path))
            }
        }
    }

    /// A signed URL for the file `source` names.
    pub async fn download_link_from(
        &self,
        source: &DownloadSource,
    ) -> Result<DownloadLink, ClientError> {
        match source {
            DownloadSource::Tree { tree, path } => self.download_link(*tree, path).await,
            DownloadSource::Link { link, path } => self.link_download(link, path.as_deref()).await,
        }
    }

    /// One page of the folder `path` of `origin`.
    pub async fn list_in(
        &self,
        origin: &Origin,
        path: &str,
        cursor: Option<&str>,
    ) -> Result<Listing, ClientError> {
        match origin {
            Origin::Tree(tree) => self.list(*tree, path, cursor).await,
            Origin::Link(link) => self.link_list(link, path, cursor).await,
        }
    }
}

/// A file request's session as an upload to `path`, the path it was asked for.
fn as_session(session: LinkUploadSession, path: &str) -> UploadSession {
    UploadSession {
        upload_id: session.upload_id,
        path: path.to_string(),
        size: session.size,
        sha256: session.sha256,
        part_size: session.part_size,
        parts: session.parts,
        urls_expire_at: session.urls_expire_at,
        expires_at: session.expires_at,
        part_checksums: false,
    }
}

/// A file a file request received, as the entry at `path`, the path it was asked for.
fn as_entry(received: ReceivedFile, path: &str) -> Entry {
    Entry {
        path: path.to_string(),
        name: remote_path::file_name(path).to_string(),
        kind: EntryKind::File,
        size: received.size,
        sha256: Some(received.sha256),
        modified_at: received.received_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_of_different_trees_do_not_meet() {
        let server = "http://h:1";
        let own = UploadTarget::Tree(Tree::Own).record_scope(server);
        assert_eq!(own, server, "records made before sharing keep their keys");
        let shared = UploadTarget::Tree(Tree::Shared(Uuid::nil())).record_scope(server);
        assert_ne!(shared, own);
        let link = UploadTarget::Link(LinkAccess::new("http://h:1/s/t")).record_scope(server);
        assert_eq!(link, "http://h:1/s/t");
    }
}
