//! Many uploads at once: sessions created, and completed, by the batch, so a folder of small
//! files costs one request per file (its `PUT`) and not three.
//!
//! Each file is checked and answered on its own, as the one-file use cases would, in order:
//! one refused file leaves the others. What a batch shares is the work: the sessions of a
//! create are stored in one transaction (under the owner's lock, each checked against the
//! quota with the ones before it counted, so the check stays exact), and the files of a
//! complete are assembled side by side, then made visible in one transaction. The quota
//! thresholds a batch crosses are counted file after file, so one mail goes per threshold.

use futures::StreamExt;
use uuid::Uuid;

use super::uploads::{Assembled, Prepared};
use super::{CreateUpload, FileService, Scope, UploadView};
use crate::error::{Error, Result};
use crate::files::domain::{Node, Sha256Hex};
use crate::files::ports::UploadLimits;

/// The most files one batch request may name.
pub const MAX_BATCH: usize = common::api::MAX_UPLOAD_BATCH;

/// How many files of a batch are checked, or assembled, at once.
const AT_ONCE: usize = 16;

impl FileService {
    /// Starts (or resumes) an upload for each of `requests`, all of `owner` and started the
    /// same way; each answer says whether its session was resumed. A request that fails to
    /// parse comes in as its error and goes out as it.
    pub(super) async fn create_uploads(
        &self,
        owner: Uuid,
        requests: Vec<Result<CreateUpload>>,
    ) -> Result<Vec<Result<(UploadView, bool)>>> {
        check_batch(requests.len())?;
        self.ensure_active(owner).await?;
        let prepared: Vec<Result<Prepared>> = futures::stream::iter(requests)
            .map(|request| async move { self.prepare_upload(owner, request?).await })
            .buffered(AT_ONCE)
            .collect()
            .await;
        let new: Vec<_> = prepared
            .iter()
            .filter_map(|prepared| match prepared {
                Ok(Prepared::New(upload)) => Some(upload.clone()),
                _ => None,
            })
            .collect();
        let mut stored = if new.is_empty() {
            Vec::new()
        } else {
            let limits = UploadLimits::quota(self.settings.quota_bytes);
            match self
                .repo
                .insert_uploads(new.clone(), limits, self.now())
                .await
            {
                Ok(stored) => stored,
                Err(error) => {
                    for upload in &new {
                        self.abort_staging(&upload.blob_key, &upload.staging_id)
                            .await;
                    }
                    return Err(error);
                }
            }
        }
        .into_iter();
        let mut answers = Vec::with_capacity(prepared.len());
        for prepared in prepared {
            answers.push(match prepared {
                Err(error) => Err(error),
                Ok(Prepared::Resumed(upload)) => self.view_upload(upload).await.map(|v| (v, true)),
                Ok(Prepared::New(upload)) => match stored.next() {
                    Some(Ok(())) => self.view_new_upload(upload).await.map(|v| (v, false)),
                    Some(Err(error)) => {
                        self.abort_staging(&upload.blob_key, &upload.staging_id)
                            .await;
                        Err(error)
                    }
                    None => Err(Error::internal(anyhow::anyhow!(
                        "the repo answered fewer sessions than it was given"
                    ))),
                },
            });
        }
        Ok(answers)
    }

    /// Completes each of `items` (a session id and the client's SHA-256, if sent) that
    /// `scope` reaches, as [`FileService::complete_upload`] would each.
    pub(super) async fn complete_uploads(
        &self,
        scope: &Scope,
        items: Vec<(Uuid, Option<Sha256Hex>)>,
    ) -> Result<Vec<Result<Node>>> {
        check_batch(items.len())?;
        let owner = scope.owner;
        self.ensure_active(owner).await?;
        let assembled: Vec<Result<Assembled>> = futures::stream::iter(items)
            .map(|(id, sha256)| async move {
                let upload = self.open_upload(owner, id).await?;
                if upload.grant != scope.grant || !upload.path.starts_with(&scope.base) {
                    return Err(Error::NotFound(format!("there is no upload session {id}")));
                }
                self.assemble_upload(upload, sha256).await
            })
            .buffered(AT_ONCE)
            .collect()
            .await;
        let mut used = if self.settings.quota_bytes == 0 {
            0
        } else {
            self.repo.usage(owner, self.now()).await?.stored_bytes()
        };
        let mut batch = Vec::new();
        let mut uploads = Vec::new();
        for assembled in assembled.iter().flatten() {
            let after = used
                .saturating_sub(assembled.replaced_size)
                .saturating_add(assembled.file.size);
            let mut events = assembled.events.clone();
            events.extend(self.quota_events_between(owner, used, after).await?);
            used = after;
            batch.push((assembled.upload.clone(), assembled.file.clone(), events));
            uploads.push(assembled.upload.clone());
        }
        let mut finished = if batch.is_empty() {
            Vec::new()
        } else {
            self.repo.finish_uploads(batch).await?
        }
        .into_iter()
        .zip(uploads);
        let mut answers = Vec::with_capacity(assembled.len());
        for assembled in assembled {
            answers.push(match assembled {
                Err(error) => Err(error),
                Ok(_) => match finished.next() {
                    Some((result, upload)) => self.settle(&upload, result).await,
                    None => Err(Error::internal(anyhow::anyhow!(
                        "the repo answered fewer files than it was given"
                    ))),
                },
            });
        }
        Ok(answers)
    }
}

/// A batch names at least one file and at most [`MAX_BATCH`].
fn check_batch(n_files: usize) -> Result<()> {
    if n_files == 0 || n_files > MAX_BATCH {
        return Err(Error::Invalid(format!(
            "a batch names 1 to {MAX_BATCH} uploads, not {n_files}"
        )));
    }
    Ok(())
}
