//! Carrying out a plan remote → local: deletions, folders, then the files, a few at a time,
//! each through [`crate::transfer::download`] (into `NAME.part`, resumed with `Range`, checked
//! against the server's SHA-256, then renamed), placed by [`LocalRoot`].

use std::fs;

use futures::StreamExt;
use indicatif::ProgressBar;

use super::local::LocalRoot;
use super::plan::{Plan, Transfer};
use super::remote_join;
use super::report::{Done, Outcome};
use crate::client::{AtPath, Client, DownloadSource, Origin};
use crate::hash_cache::{HashCache, Stamp};
use crate::output::{human_bytes, Output};
use crate::progress::Progress;
use crate::remote_path::Shown;
use crate::transfer::download::download;

/// A remote folder copied into a local one.
pub struct Pull<'a> {
    /// The API client.
    pub client: &'a Client,
    /// Own files, a share, or a folder link.
    pub origin: Origin,
    /// The remote folder.
    pub remote_root: String,
    /// How remote paths appear in messages.
    pub shown: Shown,
    /// The local folder.
    pub local: LocalRoot,
    /// Files in flight at once.
    pub parallel: usize,
    /// Text or JSON.
    pub output: Output,
    /// Learns the hash of every file that arrives, so the next run need not read it.
    pub cache: &'a HashCache,
}

impl Pull<'_> {
    /// Does what `plan` says; every failure is recorded, none stops the rest.
    pub async fn run(&self, plan: &Plan) -> Outcome {
        let output = self.output;
        let mut outcome = Outcome::default();
        for deletion in &plan.deletions {
            match self.local.remove(&deletion.path) {
                Ok(()) => {
                    let _ = output.info(format_args!("deleted {}", deletion.path));
                    outcome.deleted.push(deletion.path.clone());
                }
                Err(error) => outcome.fail(output, deletion.path.clone(), error),
            }
        }
        for folder in &plan.folders {
            match self.local.folder(folder) {
                Ok(_) => outcome.folders.push(folder.clone()),
                Err(error) => outcome.fail(output, folder.clone(), error),
            }
        }
        let progress = Progress::new(output);
        let total = match plan.transfers.len() {
            0 | 1 => ProgressBar::hidden(),
            n => progress.total_bar(plan.transfer_bytes(), n),
        };
        let progress = &progress;
        let total = &total;
        let mut files = futures::stream::iter(&plan.transfers)
            .map(|transfer| async move { (transfer, self.one(transfer, progress, total).await) })
            .buffer_unordered(self.parallel.max(1));
        while let Some((transfer, result)) = files.next().await {
            match result {
                Ok(done) => {
                    progress
                        .suspend(|| {
                            output.info(format_args!(
                                "downloaded {} ({})",
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

    async fn one(
        &self,
        transfer: &Transfer,
        progress: &Progress,
        total: &ProgressBar,
    ) -> anyhow::Result<Done> {
        let remote = remote_join(&self.remote_root, &transfer.path);
        let label = self.shown.path(&remote);
        let target = self.local.file_target(&transfer.path)?;
        let source = DownloadSource::at(&self.origin, &remote);
        let link = self
            .client
            .download_link_from(&source)
            .await
            .at_path(&label)?;
        let bar = progress.file_bar(&transfer.path, link.size);
        progress.start_transfer(&bar);
        let result = download(self.client, &source, &label, link, &target, &bar).await;
        bar.finish_and_clear();
        let downloaded = result?;
        total.inc(downloaded.size);
        if let Ok(metadata) = fs::metadata(&target) {
            self.cache
                .remember(&target, Stamp::of(&metadata), &downloaded.sha256);
        }
        Ok(Done {
            path: transfer.path.clone(),
            size: downloaded.size,
            sha256: downloaded.sha256,
        })
    }
}
