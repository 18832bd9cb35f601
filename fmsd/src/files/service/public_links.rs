//! What a link leads to, for anyone holding its token: its metadata, a folder's listing, a
//! download (counted, exactly up to the link's limit), or, for a file request, uploads.
//!
//! Unknown and revoked tokens are not found; an expired or used-up link is gone; a wrong or
//! missing password is unauthorized (the gateway limits the guesses).
//!
//! Paths are relative to the link's item, and every use case here takes the owner's folders
//! above the item out of its error messages (see [`Scope`]).

use common::events::{LinkUploadReceived, Outgoing};
use uuid::Uuid;

use super::{seconds, CreateUpload, DownloadTicket, FileService, Page, Scope, UploadView};
use crate::error::{Error, Result};
use crate::files::domain::{
    split_extension, BlobKey, Link, LinkMode, LinkToken, Node, OverwritePolicy, PageLimit,
    RemotePath, Role, Sha256Hex, Upload,
};
use crate::files::ports::{ByteStream, PendingCap};
use crate::passwords;

/// How many `name (n).ext` candidates a file request tries before giving up.
const MAX_RENAMES: u32 = 100;

/// How many files one zip of a folder link may hold: the list of them is kept while the zip
/// is sent.
const MAX_ARCHIVE_FILES: usize = 10_000;

/// A file to put into a folder link's zip.
#[derive(Debug, Clone)]
pub struct ArchiveEntry {
    /// Its path inside the zipped folder, without a leading `/` (`photos/a.jpg`).
    pub path: String,
    /// When it last changed.
    pub modified_at: chrono::DateTime<chrono::Utc>,
    /// Where its bytes are.
    pub blob_key: BlobKey,
    /// How many.
    pub size: u64,
}

/// What a folder link's zip holds.
#[derive(Debug, Clone)]
pub struct Archive {
    /// The zipped folder's name (the zip's name without `.zip`).
    pub name: String,
    /// Every file under it, folders first walked in name order.
    pub entries: Vec<ArchiveEntry>,
}

/// A link opened with its token (and password).
#[derive(Debug, Clone)]
pub struct OpenLink {
    /// The link.
    pub link: Link,
    /// Its item, where it is now.
    pub node: Node,
    /// The display name of the owner.
    pub owner_name: String,
}

impl OpenLink {
    /// The scope a link's paths are relative to: its item, read-only.
    pub fn scope(&self) -> Scope {
        Scope {
            owner: self.link.owner,
            base: self.node.path.clone(),
            role: Some(Role::Viewer),
            grant: Some(self.link.id),
        }
    }

    /// Downloads left, if limited.
    pub fn downloads_left(&self) -> Option<u64> {
        self.link
            .max_downloads
            .map(|max| max.saturating_sub(self.link.downloads))
    }

    fn require_mode(&self, mode: LinkMode) -> Result<()> {
        match (self.link.mode, mode) {
            (have, want) if have == want => Ok(()),
            (LinkMode::Upload, _) => Err(Error::Forbidden(
                "this link only takes uploads; nothing can be listed or downloaded through it"
                    .into(),
            )),
            (LinkMode::Download, _) => {
                Err(Error::Forbidden("this link does not take uploads".into()))
            }
        }
    }
}

impl FileService {
    /// Opens the link `token`, checking its life, its downloads left and its password.
    #[tracing::instrument(skip_all)]
    pub async fn open_link(&self, token: &str, password: Option<String>) -> Result<OpenLink> {
        self.open_link_with(token, Some(password)).await
    }

    /// Opens the link `token` for a client that proved it knows the password a moment ago
    /// (the gateway's signed cookie): its life and downloads left are checked, its password
    /// is not.
    #[tracing::instrument(skip_all)]
    pub async fn open_unlocked_link(&self, token: &str) -> Result<OpenLink> {
        self.open_link_with(token, None).await
    }

    /// Opens the link `token`; `password` is what to check the link's password against, or
    /// `None` when it was proven already.
    async fn open_link_with(
        &self,
        token: &str,
        password: Option<Option<String>>,
    ) -> Result<OpenLink> {
        let not_found =
            || Error::NotFound("there is no such link (it may have been revoked)".into());
        let token = LinkToken::parse(token).map_err(|_| not_found())?;
        let link = self
            .sharing
            .link_by_token(&token.hash())
            .await?
            .ok_or_else(not_found)?;
        if self.repo.is_owner_deleted(link.owner).await? {
            return Err(not_found());
        }
        let node = self
            .repo
            .get_by_id(link.owner, link.node_id)
            .await?
            .ok_or_else(not_found)?;
        if self.now() >= link.expires_at {
            return Err(Error::Gone(format!(
                "this link expired at {}",
                link.expires_at.format("%Y-%m-%d %H:%M UTC")
            )));
        }
        let open = OpenLink {
            owner_name: self
                .sharing
                .person(link.owner)
                .await?
                .map_or_else(|| "an fms user".to_owned(), |person| person.name),
            link,
            node,
        };
        if open.link.mode == LinkMode::Download && open.downloads_left() == Some(0) {
            return Err(exhausted());
        }
        if let (Some(hash), Some(password)) = (&open.link.password_hash, password) {
            let Some(password) = password else {
                return Err(Error::Unauthorized(format!(
                    "this link needs a password; send it in the {} header",
                    common::api::LINK_PASSWORD_HEADER
                )));
            };
            if !passwords::verify(password, Some(hash.clone())).await? {
                return Err(Error::Unauthorized("wrong password for this link".into()));
            }
        }
        Ok(open)
    }

    /// One page of the folder at `path` inside a download link's folder.
    pub async fn link_listing(
        &self,
        open: &OpenLink,
        path: &RemotePath,
        cursor: Option<&str>,
        limit: PageLimit,
    ) -> Result<Page> {
        let scope = open.scope();
        scope
            .redacted(async {
                open.require_mode(LinkMode::Download)?;
                if !open.node.is_folder() {
                    return Err(Error::Conflict(
                        "this link leads to a file; there is nothing to list".into(),
                    ));
                }
                let folder = scope.resolve(path)?;
                self.list(open.link.owner, &folder, cursor, limit).await
            })
            .await
    }

    /// A download URL for the link's file, or for the file at `path` inside its folder; counts
    /// one download, and refuses once the link's downloads are used up.
    pub async fn link_download(
        &self,
        open: &OpenLink,
        path: Option<&RemotePath>,
    ) -> Result<DownloadTicket> {
        let scope = open.scope();
        scope
            .redacted(async {
                open.require_mode(LinkMode::Download)?;
                let node = match path.filter(|path| !path.is_root()) {
                    None => open.node.clone(),
                    Some(_) if !open.node.is_folder() => {
                        return Err(Error::Conflict(
                            "this link leads to a file; leave the path out".into(),
                        ))
                    }
                    Some(path) => {
                        let target = scope.resolve(path)?;
                        self.entry(open.link.owner, &target).await?
                    }
                };
                if node.is_folder() {
                    return Err(Error::Conflict(
                        "a folder cannot be downloaded; name a file inside it".into(),
                    ));
                }
                if !self.sharing.take_download(open.link.id).await? {
                    return Err(exhausted());
                }
                self.ticket(&node, seconds(self.settings.shared_download_url_ttl_secs))
                    .await
            })
            .await
    }

    /// Every file under the folder at `path` inside a download link's folder, for one zip;
    /// counts one download, and refuses once the link's downloads are used up.
    pub async fn link_archive(&self, open: &OpenLink, path: &RemotePath) -> Result<Archive> {
        let scope = open.scope();
        scope
            .redacted(async {
                open.require_mode(LinkMode::Download)?;
                if !open.node.is_folder() {
                    return Err(Error::Conflict(
                        "this link leads to a file; download it as it is".into(),
                    ));
                }
                let top = scope.resolve(path)?;
                let top_node = self.entry(open.link.owner, &top).await?;
                if !top_node.is_folder() {
                    return Err(Error::Conflict(
                        "only a folder is downloaded as a zip".into(),
                    ));
                }
                let prefix = match top.to_string().as_str() {
                    "/" => "/".to_owned(),
                    folder => format!("{folder}/"),
                };
                let limit = PageLimit::parse(Some(1000))?;
                let mut entries = Vec::new();
                let mut folders = std::collections::VecDeque::from([top.clone()]);
                while let Some(folder) = folders.pop_front() {
                    let mut cursor: Option<String> = None;
                    loop {
                        let page = self
                            .list(open.link.owner, &folder, cursor.as_deref(), limit)
                            .await?;
                        for node in page.entries {
                            if node.is_folder() {
                                folders.push_back(node.path.clone());
                                continue;
                            }
                            let Some(blob_key) = node.blob_key.clone() else {
                                continue;
                            };
                            let full = node.path.to_string();
                            entries.push(ArchiveEntry {
                                path: full.strip_prefix(&prefix).unwrap_or(&full).to_owned(),
                                modified_at: node.modified_at,
                                blob_key,
                                size: node.size,
                            });
                            if entries.len() > MAX_ARCHIVE_FILES {
                                return Err(Error::Conflict(format!(
                                    "this folder holds more than {MAX_ARCHIVE_FILES} files, too \
                                     many for one zip; download its sub-folders one by one"
                                )));
                            }
                        }
                        match page.next_cursor {
                            Some(next) => cursor = Some(next),
                            None => break,
                        }
                    }
                }
                if !self.sharing.take_download(open.link.id).await? {
                    return Err(exhausted());
                }
                let name = match top.name() {
                    "" => open.node.path.name().to_owned(),
                    name => name.to_owned(),
                };
                Ok(Archive { name, entries })
            })
            .await
    }

    /// The bytes of an archive entry, streamed from the blob store.
    pub async fn read_archive_entry(&self, entry: &ArchiveEntry) -> Result<ByteStream> {
        self.read_blob(&entry.blob_key, 0, entry.size).await
    }

    /// Starts an upload of a file called `name` through a file-request link. A name that is
    /// taken becomes `name (2).ext`, `name (3).ext`, …: nothing is overwritten.
    pub async fn link_create_upload(
        &self,
        open: &OpenLink,
        name: &str,
        size: u64,
        sha256: Option<Sha256Hex>,
    ) -> Result<UploadView> {
        let scope = open.scope();
        scope
            .redacted(async {
                open.require_mode(LinkMode::Upload)?;
                let path = self.free_name(open, name).await?;
                let (view, _) = self
                    .create_upload(
                        open.link.owner,
                        CreateUpload {
                            path,
                            size,
                            sha256,
                            overwrite: OverwritePolicy::Fail,
                            grant: Some(open.link.id),
                            pending_cap: Some(PendingCap {
                                sessions: self.settings.link_pending_uploads,
                                bytes: self.settings.link_pending_bytes,
                            }),
                            part_headers: false,
                        },
                    )
                    .await?;
                Ok(view)
            })
            .await
    }

    /// A session started through the file-request link, with fresh part URLs.
    pub async fn link_upload(&self, open: &OpenLink, id: Uuid) -> Result<UploadView> {
        let scope = open.scope();
        scope
            .redacted(async {
                let upload = self.link_session(open, id).await?;
                self.view_upload(upload).await
            })
            .await
    }

    /// Completes a session started through the file-request link; tells the owner.
    pub async fn link_complete_upload(
        &self,
        open: &OpenLink,
        id: Uuid,
        sha256: Option<Sha256Hex>,
    ) -> Result<Node> {
        let scope = open.scope();
        scope
            .redacted(async {
                let mut upload = self.link_session(open, id).await?;
                // Names are picked again at complete, one complete at a time, so two uploads of one
                // name that were open together both land.
                let _one_at_a_time = self.link_completes.lock().await;
                let name = upload.path.name().to_owned();
                if self
                    .repo
                    .get(open.link.owner, &upload.path)
                    .await?
                    .is_some()
                {
                    upload.path = self.free_name(open, &strip_number(&name)).await?;
                }
                let owner = self.person_soon(open.link.owner).await?;
                if owner.is_none() {
                    tracing::warn!(
                        "no directory entry for the link's owner; the upload mail is skipped"
                    );
                }
                let notice = owner.map(|owner| {
                    Outgoing::new(&LinkUploadReceived {
                        link_id: open.link.id,
                        owner_id: owner.id,
                        owner_email: owner.email,
                        owner_name: owner.name,
                        folder_name: open.node.path.name().to_owned(),
                        file_name: upload.path.name().to_owned(),
                        size: upload.size,
                        path: Some(upload.path.to_string()),
                    })
                });
                let node = self
                    .finish(upload, sha256, notice.into_iter().collect())
                    .await?;
                self.sharing.count_upload(open.link.id).await?;
                Ok(node)
            })
            .await
    }

    /// The owner's session `id`, if it is one this link's folder receives.
    async fn link_session(&self, open: &OpenLink, id: Uuid) -> Result<Upload> {
        open.require_mode(LinkMode::Upload)?;
        let upload = self.open_upload(open.link.owner, id).await?;
        if upload.grant != Some(open.link.id)
            || upload.path.parent().as_ref() != Some(&open.node.path)
        {
            return Err(Error::NotFound(format!("there is no upload session {id}")));
        }
        Ok(upload)
    }

    /// The first of `name`, `stem (2).ext`, … that is free in the link's folder.
    async fn free_name(&self, open: &OpenLink, name: &str) -> Result<RemotePath> {
        let folder = &open.node.path;
        let first = folder.join(name)?;
        let (stem, extension) = split_extension(name);
        let mut candidate = first;
        for n in 2..=MAX_RENAMES + 1 {
            if self.repo.get(open.link.owner, &candidate).await?.is_none() {
                return Ok(candidate);
            }
            candidate = folder.join(&format!("{stem} ({n}){extension}"))?;
        }
        Err(Error::Conflict(format!(
            "too many files called '{name}' were uploaded already; pick another name"
        )))
    }
}

fn exhausted() -> Error {
    Error::Gone("this link has no downloads left".into())
}

/// `name (2).ext` back to `name.ext`: the name a file request was asked to take.
fn strip_number(name: &str) -> String {
    let (stem, extension) = split_extension(name);
    match stem.rfind(" (") {
        Some(at)
            if stem.ends_with(')')
                && stem[at + 2..stem.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                && stem.len() > at + 3 =>
        {
            format!("{}{extension}", &stem[..at])
        }
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::strip_number;

    #[test]
    fn strip_number_undoes_a_rename() {
        assert_eq!(strip_number("scan (2).png"), "scan.png");
        assert_eq!(strip_number("scan (12)"), "scan");
        assert_eq!(strip_number("scan.png"), "scan.png");
        assert_eq!(strip_number("scan ().png"), "scan ().png");
        assert_eq!(strip_number("a (b).png"), "a (b).png");
    }
}
