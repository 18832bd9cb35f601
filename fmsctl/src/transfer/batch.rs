//! Small files in batches: each batch is hashed first, then its sessions are created in one
//! request (`POST /v1/uploads/batch`, with the SHA-256 and `part_headers`, so a file of one
//! part is one `PUT` the blob store checks), its parts go out side by side, and the sessions
//! are completed in one request (`POST /v1/uploads/batch/complete`). A file thus costs one
//! request of its own, its `PUT`, where alone it costs three.
//!
//! A rerun resumes without a local record: the server finds each unfinished session by path,
//! size and SHA-256, and says which parts it holds. As with one file, a failure a rerun cannot
//! mend ends the session at once, so its reservation goes back to the quota.

use std::path::Path;
use std::sync::Arc;

use common::api::{
    CompleteOneUpload, CreateUploadRequest, Entry, ErrorDetail, Overwrite, UploadSession,
};
use futures::StreamExt;
use indicatif::ProgressBar;
use tokio::sync::Semaphore;

use super::hash::BackgroundHash;
use super::part::{put_part, PartJob, PartUrls};
use super::plan::PlannedFile;
use super::upload::{check_plan, worth_resuming};
use crate::client::{in_flags, Client, ClientError, Tree, UploadTarget};
use crate::remote_path::Shown;

/// Files at most this large go in batches: hashed before their session starts (cheap at this
/// size), which lets the server take a file of one part in one `PUT`.
pub const SMALL_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Files per batch: the most the server takes in one request.
pub const FILES_PER_BATCH: usize = common::api::MAX_UPLOAD_BATCH;

/// Uploads batches of small files into one tree.
pub struct BatchUploader {
    /// The API client.
    client: Arc<Client>,
    /// Where the files go.
    tree: Tree,
    /// What to do when a remote file exists.
    overwrite: Overwrite,
    /// Bounds the `PUT`s in flight across all batches.
    put_slots: Arc<Semaphore>,
    /// How many `PUT`s one batch keeps in flight.
    parallel: usize,
    /// The command's total bar.
    total_bar: ProgressBar,
    /// How remote paths appear in messages.
    shown: Shown,
}

/// How many small files' `PUT`s go at once for each of `--parallel`'s slots: a small file's
/// `PUT` is one short request, whose time is the round trip, not the bytes.
pub const SMALL_PUTS_PER_SLOT: usize = 8;

impl BatchUploader {
    /// An uploader into `tree` keeping at most `parallel` × [`SMALL_PUTS_PER_SLOT`] `PUT`s in
    /// flight, naming remote paths as `shown` does.
    pub fn new(
        client: Arc<Client>,
        (tree, shown): (Tree, Shown),
        overwrite: Overwrite,
        parallel: usize,
        total_bar: ProgressBar,
    ) -> Self {
        let parallel = parallel.max(1) * SMALL_PUTS_PER_SLOT;
        Self {
            client,
            tree,
            overwrite,
            put_slots: Arc::new(Semaphore::new(parallel)),
            parallel,
            total_bar,
            shown,
        }
    }

    /// Uploads `files` (at most [`FILES_PER_BATCH`]); one outcome per file, in order.
    pub async fn upload(&self, files: &[&PlannedFile]) -> Vec<anyhow::Result<Entry>> {
        let hashes: Vec<_> = files
            .iter()
            .map(|file| BackgroundHash::start(&file.local))
            .collect();
        let mut checksums = Vec::with_capacity(files.len());
        for (file, hash) in files.iter().zip(hashes) {
            checksums.push(match hash.finish().await {
                Ok((_, size)) if size != file.size => Err(anyhow::anyhow!(
                    "{} changed size since it was listed ({} bytes, then {size}); try again",
                    file.local.display(),
                    file.size
                )),
                Ok((sha256, _)) => Ok(sha256),
                Err(error) => Err(error),
            });
        }
        let requests: Vec<CreateUploadRequest> = files
            .iter()
            .zip(&checksums)
            .filter_map(|(file, sha256)| {
                let sha256 = sha256.as_ref().ok()?;
                Some(CreateUploadRequest {
                    path: file.remote.clone(),
                    size: file.size,
                    sha256: Some(sha256.clone()),
                    overwrite: self.overwrite,
                    part_headers: true,
                })
            })
            .collect();
        let mut created = match self.client.create_uploads(self.tree, requests).await {
            Ok(created) => created.results.into_iter(),
            Err(error) => {
                let error = anyhow::Error::new(error);
                return files
                    .iter()
                    .map(|file| Err(anyhow::anyhow!("{error:#}").context(self.failed(file))))
                    .collect();
            }
        };
        let mut sessions = Vec::with_capacity(files.len());
        for (file, sha256) in files.iter().zip(checksums) {
            sessions.push(sha256.and_then(|sha256| {
                let result = created.next().ok_or_else(|| {
                    anyhow::anyhow!("the server answered fewer uploads than asked")
                })?;
                match (result.session, result.error) {
                    (Some(session), _) => Ok((session, sha256)),
                    (None, error) => {
                        Err(item_error(result.status, error).context(self.failed(file)))
                    }
                }
            }));
        }
        // Every file's parts, side by side; a file whose parts fail is left out of complete.
        let sent: Vec<anyhow::Result<(UploadSession, String)>> =
            futures::stream::iter(files.iter().zip(sessions))
                .map(|(file, session)| async move {
                    let (session, sha256) = session?;
                    match self.send_parts(file, &session).await {
                        Ok(()) => Ok((session, sha256)),
                        Err(error) => {
                            self.end_unless_resumable(&error, &session).await;
                            Err(error.context(self.failed(file)))
                        }
                    }
                })
                .buffered(self.parallel)
                .collect()
                .await;
        let to_complete: Vec<CompleteOneUpload> = sent
            .iter()
            .flatten()
            .map(|(session, sha256)| CompleteOneUpload {
                upload_id: session.upload_id,
                sha256: Some(sha256.clone()),
            })
            .collect();
        let mut completed = if to_complete.is_empty() {
            Vec::new().into_iter()
        } else {
            match self.client.complete_uploads(self.tree, to_complete).await {
                Ok(completed) => completed.results.into_iter(),
                Err(error) => {
                    let reason = format!("{:#}", anyhow::Error::new(error));
                    return files
                        .iter()
                        .zip(sent)
                        .map(|(file, sent)| {
                            sent.and_then(|_| {
                                Err(anyhow::anyhow!("{reason}").context(self.failed(file)))
                            })
                        })
                        .collect();
                }
            }
        };
        let mut outcomes = Vec::with_capacity(files.len());
        for (file, sent) in files.iter().zip(sent) {
            let outcome = match sent {
                Err(error) => Err(error),
                Ok((session, _)) => match completed.next() {
                    Some(result) => match (result.entry, result.error) {
                        (Some(entry), _) => Ok(entry),
                        (None, error) => {
                            let error = item_error(result.status, error);
                            self.end_unless_resumable(&error, &session).await;
                            Err(error.context(self.failed(file)))
                        }
                    },
                    None => Err(anyhow::anyhow!(
                        "the server answered fewer files than asked"
                    )),
                },
            };
            outcomes.push(outcome);
        }
        outcomes
    }

    /// Sends the parts of `session` the server does not hold yet.
    async fn send_parts(&self, file: &PlannedFile, session: &UploadSession) -> anyhow::Result<()> {
        check_plan(session, file.size)?;
        let stored: u64 = session
            .parts
            .iter()
            .filter(|part| part.stored)
            .map(|part| part.size)
            .sum();
        self.total_bar.inc(stored);
        let urls = PartUrls::new(
            Arc::clone(&self.client),
            UploadTarget::Tree(self.tree),
            session,
        );
        let file_bar = ProgressBar::hidden();
        let job = PartJob {
            client: &self.client,
            urls: &urls,
            path: Path::new(&file.local),
            file_bar: &file_bar,
            total_bar: &self.total_bar,
        };
        for part in session.parts.iter().filter(|part| !part.stored) {
            let _slot = self.put_slots.acquire().await?;
            put_part(&job, part).await?;
        }
        Ok(())
    }

    /// What an error of `file` says first.
    fn failed(&self, file: &PlannedFile) -> String {
        format!(
            "failed to upload {} to {}",
            file.local.display(),
            self.shown.path(&file.remote)
        )
    }

    /// Ends `session` when `error` will not get better by running the command again.
    async fn end_unless_resumable(&self, error: &anyhow::Error, session: &UploadSession) {
        if worth_resuming(error) {
            return;
        }
        if let Err(abort) = self
            .client
            .abort_upload_in(self.tree, session.upload_id)
            .await
        {
            if abort.status() != Some(404) {
                let reason = format!("{abort:#}");
                tracing::warn!(upload_id = %session.upload_id, %reason, "could not abort the upload");
            }
        }
    }
}

/// One file's error answer in a batch, as the client's error for that file.
fn item_error(status: u16, detail: Option<ErrorDetail>) -> anyhow::Error {
    let detail = detail.unwrap_or_else(|| ErrorDetail {
        code: "unknown".into(),
        message: format!("the server answered {status} without saying why"),
    });
    ClientError::Api {
        status,
        code: detail.code,
        message: in_flags(detail.message),
    }
    .into()
}
