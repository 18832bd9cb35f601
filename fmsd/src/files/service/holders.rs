//! The upload sessions that hold an owner's quota, whoever started them: the owner lists them
//! and may end any; a session started through a share or a link ends with it (revoked, turned
//! read-only, expired), and one that stores no new part for `files.idle_upload_timeout_secs` is
//! ended by the sweep. The owner's own sessions live their full time (a paused upload of one's
//! own resumes the next day).
//!
//! **Invariant:** no session outlives, by more than one sweep, the right it was started with.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{seconds, FileService, SWEEP_BATCH};
use crate::error::Result;
use crate::files::domain::{LinkMode, Role, Upload};
use crate::files::ports::QuietUpload;

/// How many batches of quiet sessions one sweep looks at, at most.
const QUIET_BATCHES: usize = 10;

/// Who started a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartedThrough {
    /// The owner, in their own tree.
    Owner,
    /// The recipient of this share.
    Share(Uuid),
    /// A holder of this link.
    Link(Uuid),
    /// A share or link that no longer exists; the session is ended soon.
    Revoked(Uuid),
}

/// A session with who started it.
#[derive(Debug, Clone)]
pub struct HeldUpload {
    /// The session.
    pub upload: Upload,
    /// Who started it.
    pub through: StartedThrough,
}

impl FileService {
    /// How many upload sessions are open now, of every owner (the uploads-in-progress gauge).
    pub async fn open_uploads(&self) -> Result<u64> {
        self.repo.open_uploads(self.clock.now()).await
    }

    /// Every open session that holds part of `owner`'s quota, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn held_uploads(&self, owner: Uuid) -> Result<Vec<HeldUpload>> {
        self.ensure_active(owner).await?;
        let uploads = self.repo.uploads(owner, self.now()).await?;
        let granted = uploads.iter().any(|upload| upload.grant.is_some());
        let (links, shares) = if granted {
            (
                self.sharing.links(owner).await?,
                self.sharing.shares_given(owner).await?,
            )
        } else {
            Default::default()
        };
        Ok(uploads
            .into_iter()
            .map(|upload| {
                let through = match upload.grant {
                    None => StartedThrough::Owner,
                    Some(id) if links.iter().any(|link| link.id == id) => StartedThrough::Link(id),
                    Some(id) if shares.iter().any(|share| share.id == id) => {
                        StartedThrough::Share(id)
                    }
                    Some(id) => StartedThrough::Revoked(id),
                };
                HeldUpload { upload, through }
            })
            .collect())
    }

    /// Ends every session started through `grant`, a share or link of `owner` that no longer
    /// takes uploads, and frees what they hold. A failure is logged and left to the sweep: the
    /// revocation that called this stands.
    pub(super) async fn end_grant_uploads(&self, owner: Uuid, grant: Uuid) {
        match self
            .space
            .freeing(|| self.repo.abort_grant_uploads(owner, grant))
            .await
        {
            Ok(garbage) => {
                if !garbage.is_empty() {
                    tracing::info!(
                        n_ended = garbage.len(),
                        "ended the upload sessions of a share or link that no longer takes uploads"
                    );
                }
                self.dispose(&garbage).await;
            }
            Err(error) => tracing::warn!(
                error = %error.report(),
                "failed to end the upload sessions of a revoked share or link; the sweep will"
            ),
        }
    }

    /// Looks at every session started through a share or link that showed no progress for
    /// the idle timeout: one whose right is gone, or that stored nothing new since, is ended;
    /// the others are marked active now. Returns how many were ended.
    pub(super) async fn end_quiet_uploads(&self, now: DateTime<Utc>) -> Result<u64> {
        let quiet_since = now - seconds(self.settings.idle_upload_timeout_secs);
        let mut n_ended = 0;
        for _ in 0..QUIET_BATCHES {
            let quiet = self.repo.quiet_uploads(quiet_since, SWEEP_BATCH).await?;
            let n_seen = quiet.len();
            for QuietUpload {
                upload,
                stored_bytes,
            } in quiet
            {
                if self.still_allowed(&upload, now).await? {
                    let stored: u64 = self
                        .blobs
                        .stored_parts(&upload.blob_key, &upload.staging_id)
                        .await?
                        .iter()
                        .map(|part| part.size)
                        .sum();
                    if stored > stored_bytes {
                        self.repo
                            .note_upload_progress(upload.id, stored, now)
                            .await?;
                        continue;
                    }
                }
                self.discard(upload.owner, upload.id).await;
                n_ended += 1;
            }
            if n_seen < SWEEP_BATCH as usize {
                break;
            }
        }
        if n_ended > 0 {
            tracing::info!(
                n_ended,
                "ended idle upload sessions started through shares or links"
            );
        }
        Ok(n_ended)
    }

    /// Whether the share or link `upload` was started through still takes uploads at `now`.
    async fn still_allowed(&self, upload: &Upload, now: DateTime<Utc>) -> Result<bool> {
        let Some(grant) = upload.grant else {
            return Ok(true);
        };
        if let Some(share) = self.sharing.share(grant).await? {
            return Ok(share.owner == upload.owner && share.role == Role::Editor);
        }
        Ok(self
            .sharing
            .links(upload.owner)
            .await?
            .iter()
            .any(|link| link.id == grant && link.mode == LinkMode::Upload && link.expires_at > now))
    }
}
