//! Uploading one file: resume or create the session, send the missing parts, complete.
//!
//! The file is hashed on a background thread while its parts go out, and the SHA-256 is sent at
//! `complete` (the server checks it there). Resuming thus cannot rely on the checksum: a local
//! [`UploadRecord`], keyed by the server, the file (path, size, mtime) and the remote path,
//! remembers the session, so running the same upload again after an interruption sends only the
//! parts the server does not hold. Parts go out in parallel; a [`Semaphore`] shared by all
//! files of a command bounds the number of `PUT`s in flight, whatever the number of files.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use common::api::{Entry, Overwrite, UploadSession};
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use tokio::sync::Semaphore;

use super::hash::BackgroundHash;
use super::part::{put_part, PartJob, PartUrls};
use super::plan::PlannedFile;
use super::record::{LocalFile, UploadRecord};
use crate::client::{AtPath, Client, ClientError, UploadTarget};
use crate::output::Output;
use crate::progress::Progress;
use crate::remote_path::Shown;

/// Uploads files for one command, sharing bars and the limit on parts in flight.
pub struct Uploader {
    /// The API client.
    client: Arc<Client>,
    /// Where the files go.
    target: UploadTarget,
    /// What to do when a remote file exists.
    overwrite: Overwrite,
    /// How many parts of one file to keep in flight.
    parallel: usize,
    /// Bounds the parts in flight across all files.
    part_slots: Semaphore,
    /// The bars.
    progress: Progress,
    /// The bar that adds every file up.
    total_bar: ProgressBar,
    /// For the "resuming" notice.
    output: Output,
    /// How remote paths appear in messages.
    shown: Shown,
}

impl Uploader {
    /// An uploader to `target` sending at most `parallel` parts at once.
    pub fn new(
        client: Arc<Client>,
        target: UploadTarget,
        overwrite: Overwrite,
        parallel: usize,
        progress: Progress,
        total_bar: ProgressBar,
        output: Output,
    ) -> Self {
        let parallel = parallel.max(1);
        Self {
            client,
            target,
            overwrite,
            parallel,
            part_slots: Semaphore::new(parallel),
            progress,
            total_bar,
            output,
            shown: Shown::Own,
        }
    }

    /// Names remote paths in messages as `shown` does (`shared:NAME/...`).
    pub fn showing(mut self, shown: Shown) -> Self {
        self.shown = shown;
        self
    }

    /// Uploads one planned file and returns the entry the server made of it.
    pub async fn upload(&self, file: &PlannedFile) -> anyhow::Result<Entry> {
        let label = file
            .local
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.local.display().to_string());
        let bar = self.progress.file_bar(&label, file.size);
        let result = self.upload_with_bar(file, &bar).await;
        bar.finish_and_clear();
        result
    }

    async fn upload_with_bar(
        &self,
        file: &PlannedFile,
        bar: &ProgressBar,
    ) -> anyhow::Result<Entry> {
        // Hash while the session is found or made and the parts go out.
        let hash = BackgroundHash::start(&file.local);
        let local = LocalFile::of(&file.local)?;
        if local.size != file.size {
            bail!(
                "{} changed size since it was listed ({} bytes, then {}); try again",
                file.local.display(),
                file.size,
                local.size
            );
        }
        let scope = self.target.record_scope(self.client.server());
        let record = UploadRecord::new(&scope, &local, &file.remote);
        let (session, resumed) = match self.recorded_session(&record, file).await? {
            Some(session) => (session, true),
            None => {
                let (session, resumed) = self
                    .client
                    .start_upload(&self.target, &file.remote, file.size, self.overwrite)
                    .await
                    .at_path(&self.shown.path(&file.remote))?;
                if let Err(error) = record.save(session.upload_id) {
                    // Only a later resume needs the record; this upload goes on without it.
                    let reason = format!("{error:#}");
                    tracing::warn!(%reason, "could not record the upload for a resume");
                }
                (session, resumed)
            }
        };
        let sent = self
            .send_and_complete(file, bar, hash, &session, resumed)
            .await;
        match &sent {
            Ok(_) => record.remove(),
            Err(error) if !worth_resuming(error) => {
                // A failure that a rerun cannot mend: end the session now, so its reservation
                // goes back to the quota instead of waiting for the sweep.
                record.remove();
                self.abort(&session).await;
            }
            Err(_) => {}
        }
        sent
    }

    /// Ends `session` on the server (files in a tree; a file request's sessions have no
    /// abort and end with the idle sweep). A failure is only logged: the sweep ends it too.
    async fn abort(&self, session: &UploadSession) {
        let UploadTarget::Tree(tree) = self.target else {
            return;
        };
        match self.client.abort_upload_in(tree, session.upload_id).await {
            Ok(()) => tracing::info!(upload_id = %session.upload_id, "upload aborted"),
            Err(error) if error.status() == Some(404) => {}
            Err(error) => {
                let reason = format!("{error:#}");
                tracing::warn!(upload_id = %session.upload_id, %reason, "could not abort the upload");
            }
        }
    }

    async fn send_and_complete(
        &self,
        file: &PlannedFile,
        bar: &ProgressBar,
        hash: BackgroundHash,
        session: &UploadSession,
        resumed: bool,
    ) -> anyhow::Result<Entry> {
        check_plan(session, file.size)?;

        let stored_parts = session.parts.iter().filter(|part| part.stored).count();
        let stored_bytes: u64 = session
            .parts
            .iter()
            .filter(|part| part.stored)
            .map(|part| part.size)
            .sum();
        if resumed {
            tracing::info!(upload_id = %session.upload_id, stored_parts, "resuming an upload");
            let message = format!(
                "resuming the upload of {} ({stored_parts} of {} parts already on the server)",
                self.shown.path(&file.remote),
                session.parts.len()
            );
            self.progress.suspend(|| self.output.notice(message));
        }
        self.progress.start_transfer(bar);
        bar.set_position(stored_bytes);
        self.total_bar.inc(stored_bytes);

        self.send_parts(session, &file.local, bar)
            .await
            .map_err(|error| {
                let hint = if worth_resuming(&error) {
                    " (run the command again to resume)"
                } else {
                    ""
                };
                error.context(format!(
                    "failed to upload {} to {}{hint}",
                    file.local.display(),
                    self.shown.path(&file.remote)
                ))
            })?;

        self.progress.start_finishing(bar);

        let (sha256, hashed_bytes) = hash.finish().await?;
        if hashed_bytes != file.size {
            bail!(
                "{} changed size while being read ({} bytes, then {}); try again",
                file.local.display(),
                file.size,
                hashed_bytes
            );
        }
        let completed = self
            .client
            .complete_upload_at(&self.target, session, &sha256)
            .await
            .at_path(&self.shown.path(&file.remote))?;
        Ok(completed)
    }

    /// The session `record` names, if the server still has it for this path and size.
    async fn recorded_session(
        &self,
        record: &UploadRecord,
        file: &PlannedFile,
    ) -> anyhow::Result<Option<UploadSession>> {
        let Some(upload_id) = record.load() else {
            return Ok(None);
        };
        match self
            .client
            .upload_session_at(&self.target, upload_id, &file.remote)
            .await
        {
            Ok(session) if session.path == file.remote && session.size == file.size => {
                Ok(Some(session))
            }
            Ok(_) => {
                record.remove();
                Ok(None)
            }
            Err(error) if error.status() == Some(404) => {
                tracing::debug!(%upload_id, "the recorded upload is gone; starting afresh");
                record.remove();
                Ok(None)
            }
            Err(error) => Err(error).at_path(&self.shown.path(&file.remote)),
        }
    }

    async fn send_parts(
        &self,
        session: &UploadSession,
        local: &Path,
        bar: &ProgressBar,
    ) -> anyhow::Result<()> {
        let urls = PartUrls::new(Arc::clone(&self.client), self.target.clone(), session);
        let job = PartJob {
            client: &self.client,
            urls: &urls,
            path: local,
            file_bar: bar,
            total_bar: &self.total_bar,
        };
        let job = &job;
        futures::stream::iter(session.parts.iter().filter(|part| !part.stored))
            .map(|part| async move {
                let _slot = self
                    .part_slots
                    .acquire()
                    .await
                    .context("the upload was stopped")?;
                put_part(job, part).await
            })
            .buffer_unordered(self.parallel)
            .try_collect::<()>()
            .await
    }
}

/// Whether a rerun may finish what failed, so the session and its record are kept: the
/// network or the server failed (a connection, a timeout, 408, 429, 5xx, 507 for a full disk),
/// or the login did (log in again, then resume). A 4xx answer (checksum mismatch, conflict,
/// forbidden, the session gone) or a local failure (the file changed, vanished, cannot be
/// read) will not get better by resuming.
pub fn worth_resuming(error: &anyhow::Error) -> bool {
    let Some(client_error) = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ClientError>())
    else {
        return false;
    };
    match client_error {
        ClientError::Api { status, .. } => matches!(status, 401 | 408 | 429 | 500..),
        ClientError::Decode { .. } => false,
        ClientError::NotLoggedIn { .. }
        | ClientError::SessionExpired { .. }
        | ClientError::Connect { .. }
        | ClientError::Transport { .. }
        | ClientError::Store(_) => true,
    }
}

/// Checks that the parts the server planned cover the file exactly, once.
pub(super) fn check_plan(session: &UploadSession, size: u64) -> anyhow::Result<()> {
    let mut parts: Vec<_> = session.parts.iter().collect();
    parts.sort_by_key(|part| part.offset);
    let mut expected_offset = 0u64;
    for part in &parts {
        if part.offset != expected_offset {
            bail!(
                "the server's upload plan for {} does not cover the file (part {} at offset {})",
                session.path,
                part.number,
                part.offset
            );
        }
        expected_offset = part.offset.saturating_add(part.size);
    }
    if expected_offset != size {
        bail!(
            "the server's upload plan for {} covers {expected_offset} bytes, not {size}",
            session.path
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use common::api::UploadPart;

    fn session(parts: &[(u64, u64)]) -> UploadSession {
        UploadSession {
            upload_id: uuid::Uuid::nil(),
            path: "/f".into(),
            size: 0,
            sha256: None,
            part_size: 4,
            parts: parts
                .iter()
                .enumerate()
                .map(|(index, (offset, size))| UploadPart {
                    number: index as u32 + 1,
                    offset: *offset,
                    size: *size,
                    stored: false,
                    url: String::new(),
                    headers: Default::default(),
                })
                .collect(),
            urls_expire_at: Utc::now(),
            expires_at: Utc::now(),
            part_checksums: false,
        }
    }

    #[test]
    fn plans_must_cover_the_file() {
        assert!(check_plan(&session(&[(0, 4), (4, 4), (8, 2)]), 10).is_ok());
        assert!(check_plan(&session(&[]), 0).is_ok());
        assert!(check_plan(&session(&[(0, 0)]), 0).is_ok());
        assert!(check_plan(&session(&[(0, 4), (8, 2)]), 10).is_err());
        assert!(check_plan(&session(&[(0, 4), (4, 4)]), 10).is_err());
    }
}
