//! The files use cases: the tree (list, mkdir, move, delete, metadata, usage, download links)
//! here, the upload protocol in `uploads`, the bytes sent to and served from fmsd's own signed
//! URLs in `blobs`, the purge of a deleted owner in `purge`, and the same use cases seen from
//! inside a share in `scoped`, the sessions that hold an owner's quota (listed, ended with the
//! share or link they came through, swept when idle) in `holders`, many uploads created and
//! completed at once in `batch`, the trash a delete moves entries into in `trash`.
//!
//! Every use case is scoped by the caller's id and refuses an owner whose account was deleted,
//! so a still-valid access token of a deleted customer gets 401. Blob clean-up happens after
//! the commit that made a blob garbage, and again on every sweep if it failed.
//!
//! Uploads are refused (507) when they would leave the disk below its floor ([`DiskSpace`]);
//! what frees room (delete, abort, purge, sweep) goes through on a full disk, with the
//! emergency reserve given back if it must.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::events::{FileDeleted, FileMoved, LinkRevoked, Outgoing};
use uuid::Uuid;

use super::domain::{
    Cursor, Garbage, Node, PageLimit, RemotePath, Removal, Sha256Hex, UsageCounts,
};
use super::ports::{BlobStore, DavRepo, FileRepo, SharingRepo, TrashRepo};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::settings::FilesSettings;
use crate::space::DiskSpace;

mod batch;
mod blobs;
mod checked;
mod dav;
mod holders;
mod links;
mod notices;
mod public_links;
mod purge;
mod scoped;
mod shares;
mod through;
mod trash;
mod uploads;

#[cfg(test)]
pub(crate) mod tests;

pub use batch::MAX_BATCH;
pub use holders::{HeldUpload, StartedThrough};
pub use links::{LinkView, NewLink};
pub use public_links::{Archive, ArchiveEntry, OpenLink};
pub use scoped::{DeleteMode, Deletion, NewUpload, ScopedFiles};
pub use shares::{Scope, ShareView};
pub use trash::TrashPage;
pub use uploads::{CreateUpload, PartView, UploadView};

/// How many sessions or garbage items one sweep step handles.
const SWEEP_BATCH: u32 = 100;
/// How long after a session's expiry an unrecorded staging is kept, so a staging started just
/// before a crash is never swept while its request could still record it.
const STAGING_GRACE: Duration = Duration::hours(1);

/// The files service.
pub struct FileService {
    /// Folders, files, sessions.
    repo: Arc<dyn FileRepo>,
    /// The bytes.
    blobs: Arc<dyn BlobStore>,
    /// The directory of customers, shares and links.
    sharing: Arc<dyn SharingRepo>,
    /// WebDAV's dead properties and locks.
    dav: Arc<dyn DavRepo>,
    /// What deletes moved out of the tree.
    trash: Arc<dyn TrashRepo>,
    /// Time, injectable so tests can expire URLs and sessions.
    clock: Arc<dyn Clock>,
    /// Quota, part size, lifetimes.
    settings: FilesSettings,
    /// Serialises completes through file-request links, which pick a free name first.
    link_completes: tokio::sync::Mutex<()>,
    /// The room on the local disks: uploads are admitted by it, deletes get its reserve.
    space: Arc<DiskSpace>,
    /// Whether only customers who proved their address share, are shared with and make links
    /// (`auth.email_verification`); off until [`FileService::requiring_verified_addresses`].
    verified_only: bool,
}

impl std::fmt::Debug for FileService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileService")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// One page of a folder.
#[derive(Debug, Clone)]
pub struct Page {
    /// The folder listed.
    pub folder: RemotePath,
    /// This page's entries, by name in byte order.
    pub entries: Vec<Node>,
    /// The token for the next page; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// An owner's storage against their quota.
#[derive(Debug, Clone, Copy)]
pub struct UsageReport {
    /// What the repo counts.
    pub counts: UsageCounts,
    /// The quota.
    pub quota_bytes: u64,
}

/// Where to fetch a file.
#[derive(Debug, Clone)]
pub struct DownloadTicket {
    /// A signed, expiring URL.
    pub url: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The file's size.
    pub size: u64,
    /// The file's SHA-256.
    pub sha256: Sha256Hex,
    /// The file's name.
    pub name: String,
}

/// The stores of the files database the service works on (one SQL repo serves them all).
#[derive(Clone)]
pub struct FileStores {
    /// Folders, files, sessions.
    pub repo: Arc<dyn FileRepo>,
    /// The directory of customers, shares and links.
    pub sharing: Arc<dyn SharingRepo>,
    /// WebDAV's dead properties and locks.
    pub dav: Arc<dyn DavRepo>,
    /// The trash.
    pub trash: Arc<dyn TrashRepo>,
}

impl FileService {
    /// The service over `stores` and `blobs`.
    pub fn new(
        stores: FileStores,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        settings: FilesSettings,
        space: Arc<DiskSpace>,
    ) -> Self {
        Self {
            repo: stores.repo,
            blobs,
            sharing: stores.sharing,
            dav: stores.dav,
            trash: stores.trash,
            clock,
            settings,
            link_completes: tokio::sync::Mutex::new(()),
            space,
            verified_only: false,
        }
    }

    /// The service, letting only customers who proved their address share, be shared with and
    /// make links when `required`.
    pub fn requiring_verified_addresses(mut self, required: bool) -> Self {
        self.verified_only = required;
        self
    }

    /// Now, by the injected clock, to the microsecond: what the stores keep, so an answer
    /// never differs from what a later read returns.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// Refuses an owner whose account was deleted.
    async fn ensure_active(&self, owner: Uuid) -> Result<()> {
        if self.repo.is_owner_deleted(owner).await? {
            return Err(Error::Unauthorized("this account has been deleted".into()));
        }
        Ok(())
    }

    /// The entry at `path`, the root included.
    async fn entry(&self, owner: Uuid, path: &RemotePath) -> Result<Node> {
        if path.is_root() {
            return Ok(Node::root(owner, self.now()));
        }
        self.repo
            .get(owner, path)
            .await?
            .ok_or_else(|| Error::NotFound(format!("'{path}' does not exist")))
    }

    /// One page of the folder `path`, after `cursor`.
    #[tracing::instrument(skip(self))]
    pub async fn list(
        &self,
        owner: Uuid,
        path: &RemotePath,
        cursor: Option<&str>,
        limit: PageLimit,
    ) -> Result<Page> {
        let after = cursor
            .map(Cursor::decode)
            .transpose()?
            .map(|cursor| cursor.0);
        // The store checks the owner and the folder on the same connection; one more than
        // asked tells whether there is a next page.
        let mut entries = self.repo.list(owner, path, after, limit.get() + 1).await?;
        let next_cursor = if entries.len() > limit.get() as usize {
            entries.truncate(limit.get() as usize);
            entries
                .last()
                .map(|last| Cursor(last.path.name().to_owned()).encode())
        } else {
            None
        };
        Ok(Page {
            folder: path.clone(),
            entries,
            next_cursor,
        })
    }

    /// The file or folder at `path`.
    #[tracing::instrument(skip(self))]
    pub async fn metadata(&self, owner: Uuid, path: &RemotePath) -> Result<Node> {
        self.ensure_active(owner).await?;
        self.entry(owner, path).await
    }

    /// Creates the folder `path` (and its missing parents with `parents`).
    #[tracing::instrument(skip(self))]
    pub async fn mkdir(&self, owner: Uuid, path: &RemotePath, parents: bool) -> Result<Node> {
        self.ensure_active(owner).await?;
        if path.is_root() {
            return if parents {
                Ok(Node::root(owner, self.now()))
            } else {
                Err(Error::Conflict("'/' already exists".into()))
            };
        }
        self.repo.mkdir(owner, path, parents, self.now()).await
    }

    /// Moves or renames the entry at `from` to `to`.
    #[tracing::instrument(skip(self))]
    pub async fn move_entry(
        &self,
        owner: Uuid,
        from: &RemotePath,
        to: &RemotePath,
    ) -> Result<Node> {
        self.ensure_active(owner).await?;
        if from.is_root() {
            return Err(Error::Invalid("the root folder '/' cannot be moved".into()));
        }
        if to.starts_with(from) && to != from {
            return Err(Error::Conflict(format!(
                "'{from}' cannot be moved into itself"
            )));
        }
        let event = FileMoved {
            owner_id: owner,
            from: from.to_string(),
            to: to.to_string(),
        };
        self.repo
            .move_entry(owner, from, to, self.now(), vec![Outgoing::new(&event)])
            .await
    }

    /// Deletes the entry at `path` for good, skipping the trash ([`FileService::trash`] is what
    /// a delete does by default); a non-empty folder only when `recursive`. The shares and
    /// links of what it removes go with it, each one's end told.
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, owner: Uuid, path: &RemotePath, recursive: bool) -> Result<Removal> {
        self.ensure_active(owner).await?;
        if path.is_root() {
            return Err(Error::Invalid(
                "the root folder '/' cannot be deleted".into(),
            ));
        }
        let events = || {
            let deleted_path = path.to_string();
            Box::new(move |removal: &Removal| {
                let mut events = vec![Outgoing::new(&FileDeleted {
                    owner_id: owner,
                    path: deleted_path,
                    n_files: removal.n_files,
                    bytes_freed: removal.bytes_freed,
                    from_trash: false,
                })];
                events.extend(
                    removal
                        .ended_shares
                        .iter()
                        .map(|share| Outgoing::new(&shares::share_revoked(share))),
                );
                events.extend(removal.ended_links.iter().map(|link| {
                    Outgoing::new(&LinkRevoked {
                        link_id: link.id,
                        owner_id: owner,
                    })
                }));
                events
            }) as _
        };
        let removal = self
            .space
            .freeing(|| self.repo.delete(owner, path, recursive, events()))
            .await?;
        self.dispose(&removal.garbage).await;
        let ended = removal.ended_shares.iter().map(|share| share.id);
        for grant in ended.chain(removal.ended_links.iter().map(|link| link.id)) {
            self.end_grant_uploads(owner, grant).await;
        }
        Ok(removal)
    }

    /// What `owner` stores and may still store.
    #[tracing::instrument(skip(self))]
    pub async fn usage(&self, owner: Uuid) -> Result<UsageReport> {
        self.ensure_active(owner).await?;
        let counts = self.repo.usage(owner, self.now()).await?;
        Ok(UsageReport {
            counts,
            quota_bytes: self.settings.quota_bytes,
        })
    }

    /// A signed URL for the file at `path`.
    #[tracing::instrument(skip(self))]
    pub async fn download(&self, owner: Uuid, path: &RemotePath) -> Result<DownloadTicket> {
        self.ensure_active(owner).await?;
        let node = self.entry(owner, path).await?;
        self.ticket(&node, seconds(self.settings.download_url_ttl_secs))
            .await
    }

    /// A signed URL for the file `node`, working for `ttl`.
    async fn ticket(&self, node: &Node, ttl: Duration) -> Result<DownloadTicket> {
        let path = &node.path;
        let (Some(key), Some(sha256)) = (node.blob_key.as_ref(), node.sha256.clone()) else {
            return Err(Error::Conflict(format!(
                "'{path}' is a folder; only files can be downloaded"
            )));
        };
        let expires_at = self.now() + ttl;
        let url = self
            .blobs
            .download_url(key, expires_at, path.name())
            .await?;
        Ok(DownloadTicket {
            url,
            expires_at,
            size: node.size,
            sha256,
            name: path.name().to_owned(),
        })
    }

    /// Ends expired upload sessions, frees their staging, purges the trash past its retention,
    /// retries failed clean-ups, drops stagings no session knows and warns the owners of links about to expire; returns how
    /// many sessions ended.
    #[tracing::instrument(skip(self))]
    pub async fn sweep_expired_uploads(&self) -> Result<u64> {
        let now = self.now();
        let mut n_swept = 0;
        loop {
            let (n, garbage) = self
                .space
                .freeing(|| self.repo.sweep_expired_uploads(now, SWEEP_BATCH))
                .await?;
            n_swept += n;
            self.dispose(&garbage).await;
            if n < u64::from(SWEEP_BATCH) {
                break;
            }
        }
        n_swept += self.end_quiet_uploads(now).await?;
        self.purge_expired_trash(now).await?;
        // Garbage a failed clean-up left; stop at the first batch that makes no progress.
        loop {
            let garbage = self.repo.pending_garbage(SWEEP_BATCH).await?;
            if garbage.is_empty() || self.dispose(&garbage).await < garbage.len() {
                break;
            }
        }
        let older_than = now - seconds(self.settings.upload_session_ttl_secs) - STAGING_GRACE;
        let n_stagings = self.blobs.sweep(older_than).await?;
        self.warn_expiring_links().await?;
        if n_swept > 0 || n_stagings > 0 {
            tracing::info!(n_swept, n_stagings, "swept expired uploads");
        }
        Ok(n_swept)
    }

    /// Lets the blob store drop `garbage`, then forgets what it dropped; returns how many went.
    /// A failure is logged and left for the next sweep, never returned: the change that made
    /// the garbage is committed already.
    async fn dispose(&self, garbage: &[Garbage]) -> usize {
        let mut done = Vec::with_capacity(garbage.len());
        for item in garbage {
            let result = async {
                if let Some(staging) = &item.staging_id {
                    self.blobs.abort(&item.blob_key, staging).await?;
                }
                self.blobs.delete(&item.blob_key).await
            }
            .await;
            match result {
                Ok(()) => done.push(item.id),
                Err(error) => {
                    tracing::warn!(blob = item.blob_key.as_str(), error = %error.report(), "blob clean-up failed; the sweep will retry");
                }
            }
        }
        if let Err(error) = self.repo.forget_garbage(&done).await {
            tracing::warn!(error = %error.report(), "failed to forget cleaned-up blobs; the sweep will retry");
        }
        done.len()
    }
}

/// A settings lifetime as a duration, capped at a century so adding it to a date never
/// overflows.
fn seconds(secs: u64) -> Duration {
    const CENTURY_SECS: u64 = 100 * 366 * 24 * 3600;
    Duration::seconds(i64::try_from(secs.min(CENTURY_SECS)).unwrap_or(0))
}
