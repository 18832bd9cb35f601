//! The upload protocol: a client creates a session, `PUT`s each part straight to the blob store
//! through a signed URL (in parallel, in any order, again after a failure), then completes.
//!
//! The quota is checked at create, counting the bytes every open session reserves; the room on
//! the disk at create and again at each part (`crate::space`). Complete
//! checks that every part is stored at its size and that the bytes hash to the announced
//! SHA-256 before anything becomes visible; a mismatch leaves the session open for a retry.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use common::events::{FileUploaded, Outgoing};
use uuid::Uuid;

use super::{seconds, FileService};
use crate::error::{Error, Result};
use crate::files::domain::{
    BlobKey, Garbage, Node, OverwritePolicy, PartPlan, RemotePath, Sha256Hex, StagingId, Upload,
};
use crate::files::ports::{NewFile, PendingCap, UploadLimits};

/// What a client asks for when it starts an upload.
#[derive(Debug, Clone)]
pub struct CreateUpload {
    /// Where the file will be.
    pub path: RemotePath,
    /// Its exact size.
    pub size: u64,
    /// Its SHA-256, if the client knows it up front.
    pub sha256: Option<Sha256Hex>,
    /// What to do if a file is there.
    pub overwrite: OverwritePolicy,
    /// The share or link it goes through; `None` for the owner's own.
    pub grant: Option<Uuid>,
    /// What the grant's open sessions may hold together (a link's are capped).
    pub pending_cap: Option<PendingCap>,
    /// Whether the client sends each part with the headers its [`PartView`] names; with
    /// `sha256` given, a file of at most one part is then staged as a whole
    /// ([`crate::files::ports::BlobStore::start_whole`]).
    pub part_headers: bool,
}

/// One part of a session as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartView {
    /// 1-based number.
    pub number: u32,
    /// Offset in the file.
    pub offset: u64,
    /// Bytes in the part.
    pub size: u64,
    /// Whether the blob store holds it already.
    pub stored: bool,
    /// Where to `PUT` it.
    pub url: String,
    /// Headers the `PUT` must carry, signed into `url`.
    pub headers: Vec<(String, String)>,
}

/// A request checked and ready: the unfinished session it resumes, or a new one whose staging
/// is started but which is not stored yet.
#[derive(Debug)]
pub(super) enum Prepared {
    /// The session of the same path, size and checksum, started the same way.
    Resumed(Upload),
    /// A new session to store.
    New(Upload),
}

/// An upload whose bytes are assembled and checked, with the file and the events that make it
/// visible.
#[derive(Debug)]
pub(super) struct Assembled {
    /// The session.
    pub(super) upload: Upload,
    /// The file it becomes.
    pub(super) file: NewFile,
    /// `files.uploaded` (quota and other events are added by the caller).
    pub(super) events: Vec<Outgoing>,
    /// The size of the file it replaces, 0 if none.
    pub(super) replaced_size: u64,
}

/// A session with its parts and fresh part URLs.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadView {
    /// The session.
    pub upload: Upload,
    /// Every part, in order.
    pub parts: Vec<PartView>,
    /// When the part URLs stop working.
    pub urls_expire_at: DateTime<Utc>,
    /// Whether the store checks each part against its SHA-256: the client gets part URLs
    /// from [`FileService::checked_part_urls`].
    pub part_checksums: bool,
}

impl FileService {
    /// Starts an upload, or resumes the unfinished one of the same path, size and checksum;
    /// the flag says whether it was resumed.
    #[tracing::instrument(skip(self))]
    pub async fn create_upload(
        &self,
        owner: Uuid,
        request: CreateUpload,
    ) -> Result<(UploadView, bool)> {
        self.ensure_active(owner).await?;
        let limits = UploadLimits {
            quota: self.settings.quota_bytes,
            per_grant: request.pending_cap,
        };
        let upload = match self.prepare_upload(owner, request).await? {
            Prepared::Resumed(upload) => return Ok((self.view_upload(upload).await?, true)),
            Prepared::New(upload) => upload,
        };
        if let Err(error) = self.repo.insert_upload(&upload, limits, self.now()).await {
            self.abort_staging(&upload.blob_key, &upload.staging_id)
                .await;
            return Err(error);
        }
        Ok((self.view_new_upload(upload).await?, false))
    }

    /// Checks `request` and finds the session it resumes, or starts the staging of a new one
    /// (not yet stored: the caller stores it, or aborts the staging).
    pub(super) async fn prepare_upload(
        &self,
        owner: Uuid,
        request: CreateUpload,
    ) -> Result<Prepared> {
        if request.path.is_root() {
            return Err(Error::Invalid(
                "a file cannot be uploaded to '/'; name the file".into(),
            ));
        }
        let plan = PartPlan::new(request.size, self.settings.part_size_bytes)?;
        if request.size > self.settings.quota_bytes {
            return Err(Error::QuotaExceeded(format!(
                "the file has {} bytes but the quota is {} bytes",
                request.size, self.settings.quota_bytes
            )));
        }
        self.check_target(owner, &request.path, request.overwrite)
            .await?;
        let now = self.now();
        if let Some(sha256) = &request.sha256 {
            let resumed = self
                .repo
                .resume_upload(
                    owner,
                    &request.path,
                    request.size,
                    sha256,
                    request.overwrite,
                    now,
                )
                .await?;
            // Only a session started the same way (by the owner, or through the same share or
            // link) is resumed: nobody reaches another's session.
            if let Some(upload) = resumed.filter(|upload| upload.grant == request.grant) {
                return Ok(Prepared::Resumed(upload));
            }
        }
        // A resumed session's room is checked part by part; a new one must fit whole.
        self.space.admit(request.size).await?;
        let blob_key = BlobKey::generate();
        let staging_id = match &request.sha256 {
            Some(sha256) if request.part_headers && plan.n_parts() <= 1 => {
                self.blobs
                    .start_whole(&blob_key, &plan, sha256, now)
                    .await?
            }
            _ if request.part_headers && plan.n_parts() > 1 => {
                self.blobs.start_checked(&blob_key, &plan, now).await?
            }
            _ => self.blobs.start_upload(&blob_key, &plan, now).await?,
        };
        Ok(Prepared::New(Upload {
            id: Uuid::new_v4(),
            owner,
            path: request.path,
            size: request.size,
            sha256: request.sha256,
            overwrite: request.overwrite,
            part_size: plan.part_size,
            blob_key,
            staging_id,
            created_at: now,
            expires_at: now + seconds(self.settings.upload_session_ttl_secs),
            grant: request.grant,
        }))
    }

    /// `owner`'s session `id` with fresh part URLs and which parts are stored.
    #[tracing::instrument(skip(self))]
    pub async fn upload(&self, owner: Uuid, id: Uuid) -> Result<UploadView> {
        self.ensure_active(owner).await?;
        let upload = self.open_upload(owner, id).await?;
        self.view_upload(upload).await
    }

    /// Checks the parts and the checksum, then makes the file visible and ends the session.
    /// `sha256` is the checksum the client computed, if it sends one.
    #[tracing::instrument(skip(self))]
    pub async fn complete_upload(
        &self,
        owner: Uuid,
        id: Uuid,
        sha256: Option<Sha256Hex>,
    ) -> Result<Node> {
        self.ensure_active(owner).await?;
        let upload = self.open_upload(owner, id).await?;
        self.finish(upload, sha256, Vec::new()).await
    }

    /// Completes `upload`, writing `extra` events along with its own.
    pub(super) async fn finish(
        &self,
        upload: Upload,
        sha256: Option<Sha256Hex>,
        extra: Vec<Outgoing>,
    ) -> Result<Node> {
        let mut assembled = self.assemble_upload(upload, sha256).await?;
        let quota_events = self
            .quota_events(
                &assembled.upload,
                assembled.file.size,
                assembled.replaced_size,
            )
            .await?;
        assembled.events.extend(quota_events);
        assembled.events.extend(extra);
        let Assembled {
            upload,
            file,
            events,
            ..
        } = assembled;
        let finished = self.repo.finish_upload(&upload, file, events).await;
        self.settle(&upload, finished).await
    }

    /// Checks `upload`'s parts and target, assembles its bytes and checks them against the
    /// checksum (`sha256`, the client's at complete, or the one announced at create).
    pub(super) async fn assemble_upload(
        &self,
        upload: Upload,
        sha256: Option<Sha256Hex>,
    ) -> Result<Assembled> {
        let (owner, id) = (upload.owner, upload.id);
        let expected = match (&upload.sha256, sha256) {
            (Some(announced), Some(given)) if *announced != given => {
                return Err(Error::Conflict(format!(
                    "the sha256 given at complete ({}) differs from the one given at create ({})",
                    given.as_str(),
                    announced.as_str()
                )));
            }
            (announced, given) => given.or_else(|| announced.clone()),
        };
        let plan = upload.plan();
        self.check_parts(&upload, &plan).await?;
        self.check_target(owner, &upload.path, upload.overwrite)
            .await?;
        let assembled = self
            .blobs
            .complete(
                &upload.blob_key,
                &upload.staging_id,
                &plan,
                expected.as_ref(),
            )
            .await?;
        if assembled.size != upload.size {
            self.discard(owner, id).await;
            return Err(Error::Integrity(format!(
                "{} bytes arrived but the upload announced {}; the upload was discarded",
                assembled.size, upload.size
            )));
        }
        // A replaced file's id lives on (shares and links of it keep working).
        let replaced = self
            .repo
            .get(owner, &upload.path)
            .await?
            .filter(|node| !node.is_folder());
        let file = NewFile {
            id: replaced.as_ref().map_or_else(Uuid::now_v7, |node| node.id),
            size: assembled.size,
            sha256: assembled.sha256,
            modified_at: self.now(),
        };
        let event = FileUploaded {
            owner_id: owner,
            file_id: file.id,
            path: upload.path.to_string(),
            size: file.size,
            sha256: file.sha256.as_str().to_owned(),
        };
        Ok(Assembled {
            upload,
            file,
            events: vec![Outgoing::new(&event)],
            replaced_size: replaced.map_or(0, |node| node.size),
        })
    }

    /// What the file's commit came to: its garbage disposed of, or the session discarded when
    /// the tree changed under it (its parts are assembled already, so it cannot complete).
    pub(super) async fn settle(
        &self,
        upload: &Upload,
        finished: Result<(Node, Vec<Garbage>)>,
    ) -> Result<Node> {
        let (owner, id) = (upload.owner, upload.id);
        match finished {
            Ok((node, garbage)) => {
                self.dispose(&garbage).await;
                Ok(node)
            }
            Err(Error::Conflict(message)) => {
                self.discard(owner, id).await;
                Err(Error::Conflict(format!(
                    "{message}; the upload was discarded"
                )))
            }
            Err(Error::NotFound(message)) => {
                self.discard(owner, id).await;
                Err(Error::NotFound(format!(
                    "{message}; the upload was discarded"
                )))
            }
            Err(error) => Err(error),
        }
    }

    /// Ends `owner`'s session `id` and frees its parts.
    #[tracing::instrument(skip(self))]
    pub async fn abort_upload(&self, owner: Uuid, id: Uuid) -> Result<()> {
        self.ensure_active(owner).await?;
        let garbage = self
            .space
            .freeing(|| self.repo.abort_upload(owner, id))
            .await?;
        self.dispose(&garbage).await;
        Ok(())
    }

    /// An unexpired session of `owner`, else not found.
    pub(super) async fn open_upload(&self, owner: Uuid, id: Uuid) -> Result<Upload> {
        self.repo
            .get_upload(owner, id, self.now())
            .await?
            .ok_or_else(|| Error::NotFound(format!("there is no upload session {id}")))
    }

    /// The parent folder must exist; a folder at `path` is a conflict, and so is a file unless
    /// it may be replaced.
    async fn check_target(
        &self,
        owner: Uuid,
        path: &RemotePath,
        overwrite: OverwritePolicy,
    ) -> Result<()> {
        let parent = path.parent().unwrap_or_else(RemotePath::root);
        if !parent.is_root() {
            match self.repo.get(owner, &parent).await? {
                Some(node) if node.is_folder() => {}
                Some(_) => {
                    return Err(Error::NotFound(format!(
                        "'{parent}' is a file, not a folder"
                    )))
                }
                None => {
                    return Err(Error::NotFound(format!(
                        "the folder '{parent}' does not exist"
                    )))
                }
            }
        }
        match self.repo.get(owner, path).await? {
            Some(node) if node.is_folder() => Err(Error::Conflict(format!("'{path}' is a folder"))),
            Some(_) if overwrite == OverwritePolicy::Fail => Err(Error::Conflict(format!(
                "'{path}' already exists; upload with overwrite=replace to replace it"
            ))),
            _ => Ok(()),
        }
    }

    /// Every part must be stored, each at its planned size.
    async fn check_parts(&self, upload: &Upload, plan: &PartPlan) -> Result<()> {
        let stored: HashMap<u32, u64> = self
            .blobs
            .stored_parts(&upload.blob_key, &upload.staging_id)
            .await?
            .into_iter()
            .map(|part| (part.number, part.size))
            .collect();
        let mut missing = Vec::new();
        let mut wrong_size = Vec::new();
        for number in 1..=plan.n_parts() {
            let planned = plan.part(number).map(|(_, size)| size);
            match stored.get(&number) {
                None => missing.push(number),
                Some(size) if Some(*size) != planned => wrong_size.push(number),
                Some(_) => {}
            }
        }
        if !wrong_size.is_empty() {
            return Err(Error::Integrity(format!(
                "parts {} hold the wrong number of bytes; upload them again",
                list_numbers(&wrong_size)
            )));
        }
        if !missing.is_empty() {
            return Err(Error::Conflict(format!(
                "parts {} are not uploaded yet",
                list_numbers(&missing)
            )));
        }
        Ok(())
    }

    /// The session with fresh part URLs.
    pub(super) async fn view_upload(&self, upload: Upload) -> Result<UploadView> {
        let stored: HashMap<u32, u64> = self
            .blobs
            .stored_parts(&upload.blob_key, &upload.staging_id)
            .await?
            .into_iter()
            .map(|part| (part.number, part.size))
            .collect();
        self.view_with(upload, &stored).await
    }

    /// A session just started, with its part URLs: nothing is stored yet, so the store is not
    /// asked.
    pub(super) async fn view_new_upload(&self, upload: Upload) -> Result<UploadView> {
        self.view_with(upload, &HashMap::new()).await
    }

    /// The session with fresh part URLs, `stored` holding the sizes of its stored parts.
    async fn view_with(&self, upload: Upload, stored: &HashMap<u32, u64>) -> Result<UploadView> {
        let urls_expire_at = self.urls_expire_at(&upload);
        let plan = upload.plan();
        let mut parts = Vec::with_capacity(plan.n_parts() as usize);
        for number in 1..=plan.n_parts() {
            let (offset, size) = plan.part(number).unwrap_or_default();
            let url = self
                .blobs
                .part_url(&upload.blob_key, &upload.staging_id, number, urls_expire_at)
                .await?;
            parts.push(PartView {
                number,
                offset,
                size,
                stored: stored.get(&number) == Some(&size),
                url,
                headers: self.blobs.part_headers(&upload.staging_id, number),
            });
        }
        let part_checksums = self
            .blobs
            .checks_parts(&upload.blob_key, &upload.staging_id)
            .await?;
        Ok(UploadView {
            upload,
            parts,
            urls_expire_at,
            part_checksums,
        })
    }

    /// When part URLs of `upload` signed now stop working.
    pub(super) fn urls_expire_at(&self, upload: &Upload) -> DateTime<Utc> {
        (self.now() + seconds(self.settings.part_url_ttl_secs)).min(upload.expires_at)
    }

    /// Ends a session that can no longer complete; failures are logged, the sweep retries.
    pub(super) async fn discard(&self, owner: Uuid, id: Uuid) {
        match self
            .space
            .freeing(|| self.repo.abort_upload(owner, id))
            .await
        {
            Ok(garbage) => {
                self.dispose(&garbage).await;
            }
            Err(error) => {
                tracing::warn!(error = %error.report(), "failed to discard the upload session")
            }
        }
    }

    /// Drops a staging no session was recorded for.
    pub(super) async fn abort_staging(&self, key: &BlobKey, staging: &StagingId) {
        if let Err(error) = self.blobs.abort(key, staging).await {
            tracing::warn!(error = %error.report(), "failed to abort an unrecorded staging; the sweep will retry");
        }
    }
}

/// `1, 2, 3` or `1, 2, 3, ... (12 in all)`.
fn list_numbers(numbers: &[u32]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = numbers.iter().take(SHOWN).map(u32::to_string).collect();
    if numbers.len() > SHOWN {
        format!("{}, ... ({} in all)", shown.join(", "), numbers.len())
    } else {
        shown.join(", ")
    }
}
