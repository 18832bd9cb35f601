//! The sweep of abandoned stagings, so S3 really frees their parts.
//!
//! First the records: a staging started (by the service's clock) before the cutoff loses its
//! record, then its multipart upload is aborted. Then `ListMultipartUploads` under the prefix
//! catches uploads that never got a record (a crash between creating one and recording it),
//! by S3's own start time; servers without that call (s3s-fs) skip this second pass.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::wire::{is_not_implemented, to_error};
use super::S3BlobStore;
use crate::error::Result;
use crate::files::domain::BlobKey;

impl S3BlobStore {
    /// Drops stagings started before `older_than`; returns how many.
    pub(super) async fn sweep_stagings(&self, older_than: DateTime<Utc>) -> Result<u64> {
        let mut n_swept = 0;
        let (mut alive, mut swept) = (HashSet::new(), HashSet::new());
        let records = format!("{}staging/", self.prefix);
        let pages = self
            .bucket
            .list(records.clone(), None)
            .await
            .map_err(|error| to_error(error, "list the staging records"))?;
        for object in pages.iter().flat_map(|page| page.contents.iter()) {
            let Some(key) = object
                .key
                .strip_prefix(&records)
                .and_then(|key| BlobKey::parse(key).ok())
            else {
                continue;
            };
            let Some(record) = self.read_record(&key).await? else {
                continue;
            };
            if record.started_at < older_than {
                self.delete_record(&key).await?;
                self.cache.forget(&key);
                self.abort_upload(&self.object_path(&key), &record.upload_id)
                    .await?;
                n_swept += 1;
                swept.insert(key.as_str().to_owned());
            } else {
                alive.insert(key.as_str().to_owned());
            }
        }
        n_swept += self.sweep_unrecorded(older_than, &alive, &swept).await?;
        Ok(n_swept)
    }

    /// Aborts the other multipart uploads of stagings just swept (left by a failed clean-up),
    /// and those of blob keys without a record that S3 says were started before `older_than`;
    /// returns how many of the latter.
    async fn sweep_unrecorded(
        &self,
        older_than: DateTime<Utc>,
        alive: &HashSet<String>,
        swept: &HashSet<String>,
    ) -> Result<u64> {
        let pages = match self
            .bucket
            .list_multiparts_uploads(Some(&self.prefix), None)
            .await
        {
            Ok(pages) => pages,
            Err(error) if is_not_implemented(&error) => {
                tracing::debug!("this S3 server cannot list multipart uploads; only recorded stagings are swept");
                return Ok(0);
            }
            Err(error) => return Err(to_error(error, "list the multipart uploads")),
        };
        let mut n_swept = 0;
        for upload in pages.iter().flat_map(|page| page.uploads.iter()) {
            // Only keys that are ours: the prefix and a blob key, nothing else in the bucket.
            let Some(key) = upload
                .key
                .strip_prefix(&self.prefix)
                .and_then(|key| BlobKey::parse(key).ok())
            else {
                continue;
            };
            if alive.contains(key.as_str()) {
                continue;
            }
            if swept.contains(key.as_str()) {
                self.abort_upload(&upload.key, &upload.id).await?;
                continue;
            }
            let started = DateTime::parse_from_rfc3339(&upload.initiated)
                .map(|at| at.with_timezone(&Utc))
                .ok();
            if started.is_none_or(|at| at >= older_than) {
                continue;
            }
            // A record written since the listing means the staging is alive after all.
            if self.read_record(&key).await?.is_some() {
                continue;
            }
            self.abort_upload(&upload.key, &upload.id).await?;
            n_swept += 1;
        }
        Ok(n_swept)
    }
}
