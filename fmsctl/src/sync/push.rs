//! Carrying out a plan local → remote: deletions, folders, then the files through the
//! resumable upload of [`crate::transfer::upload`] (a rerun after an interruption sends only
//! the parts the server lacks), replacing what differs.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use common::api::Overwrite;
use futures::StreamExt;
use indicatif::ProgressBar;

use super::plan::{Plan, Transfer};
use super::remote_join;
use super::report::{Done, Outcome};
use crate::client::{AtPath, Client, Tree, UploadTarget};
use crate::hash_cache::{HashCache, Stamp};
use crate::output::{human_bytes, Output};
use crate::progress::Progress;
use crate::remote_path::Shown;
use crate::transfer::plan::PlannedFile;
use crate::transfer::upload::Uploader;

/// A local folder copied into a remote one.
pub struct Push<'a> {
    /// The API client.
    pub client: Arc<Client>,
    /// Own files, or a share (as an editor).
    pub tree: Tree,
    /// The remote folder.
    pub remote_root: String,
    /// How remote paths appear in messages.
    pub shown: Shown,
    /// The local folder, absolute.
    pub local_root: PathBuf,
    /// Parts (and files) in flight at once.
    pub parallel: usize,
    /// Text or JSON.
    pub output: Output,
    /// Learns the hash of every file sent, so the next run need not read it.
    pub cache: &'a HashCache,
}

impl Push<'_> {
    /// Does what `plan` says; every failure is recorded, none stops the rest.
    pub async fn run(&self, plan: &Plan) -> Outcome {
        let output = self.output;
        let mut outcome = Outcome::default();
        for deletion in &plan.deletions {
            let remote = remote_join(&self.remote_root, &deletion.path);
            let label = self.shown.path(&remote);
            // Into the owner's trash, as `rm` does: a sync's deletions can be undone.
            match self
                .client
                .delete(self.tree, &remote, true, false)
                .await
                .at_path(&label)
            {
                Ok(_) => {
                    let _ = output.info(format_args!("deleted {label}"));
                    outcome.deleted.push(deletion.path.clone());
                }
                Err(error) => outcome.fail(output, deletion.path.clone(), error),
            }
        }
        for folder in &plan.folders {
            let remote = remote_join(&self.remote_root, folder);
            match self
                .client
                .mkdir(self.tree, &remote, true)
                .await
                .at_path(&self.shown.path(&remote))
            {
                Ok(_) => outcome.folders.push(folder.clone()),
                Err(error) => outcome.fail(output, folder.clone(), error),
            }
        }
        let progress = Progress::new(output);
        let total = match plan.transfers.len() {
            0 | 1 => ProgressBar::hidden(),
            n => progress.total_bar(plan.transfer_bytes(), n),
        };
        let uploader = Uploader::new(
            Arc::clone(&self.client),
            UploadTarget::Tree(self.tree),
            Overwrite::Replace,
            self.parallel,
            progress.clone(),
            total.clone(),
            output,
        )
        .showing(self.shown.clone());
        let uploader = &uploader;
        let mut files = futures::stream::iter(&plan.transfers)
            .map(|transfer| async move { (transfer, self.one(uploader, transfer).await) })
            .buffer_unordered(self.parallel.max(1));
        while let Some((transfer, result)) = files.next().await {
            match result {
                Ok(done) => {
                    progress
                        .suspend(|| {
                            output.info(format_args!(
                                "uploaded {} ({})",
                                done.path,
                                human_bytes(done.size)
                            ))
                        })
                        .ok();
                    outcome.transferred.push(done);
                    self.cache.save_now_and_then();
                }
                Err(error) => {
                    progress.suspend(|| outcome.fail(output, transfer.path.clone(), error));
                }
            }
        }
        total.finish_and_clear();
        outcome
    }

    async fn one(&self, uploader: &Uploader, transfer: &Transfer) -> anyhow::Result<Done> {
        let local = self.local_root.join(&transfer.local_path);
        let file = PlannedFile {
            local: local.clone(),
            remote: remote_join(&self.remote_root, &transfer.path),
            size: transfer.size,
        };
        let entry = uploader.upload(&file).await?;
        let sha256 = entry.sha256.unwrap_or_default();
        if let Ok(metadata) = fs::metadata(&local) {
            let stamp = Stamp::of(&metadata);
            if stamp.size == entry.size && !sha256.is_empty() {
                self.cache.remember(&local, stamp, &sha256);
            }
        }
        Ok(Done {
            path: transfer.path.clone(),
            size: entry.size,
            sha256,
        })
    }
}
