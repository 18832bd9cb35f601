//! A staging on S3: its record object, where its parts are (`ListParts`), and the small cache
//! that spares part URLs a request.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::{is_missing, parse_list_parts, to_error, ListedPart};
use super::S3BlobStore;
use crate::error::{Error, Result};
use crate::files::domain::{BlobKey, PartPlan, StagingId};

/// How many stagings the cache holds before it starts over (it is only a shortcut).
const CACHE_LIMIT: usize = 10_000;

/// What a staging that is gone answers.
pub fn staging_gone() -> Error {
    Error::NotFound("this upload no longer exists: it was completed, aborted or expired".into())
}

/// The record of a staging, `<prefix>staging/<key>` in the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagingRecord {
    /// The upload id the staging was started with: the staging id the service keeps.
    pub staging: String,
    /// The multipart upload the parts go to now: `staging`, or its replacement after a failed
    /// check consumed it.
    pub upload_id: String,
    /// The file's size.
    pub size: u64,
    /// Size of every part but the last.
    pub part_size: u64,
    /// When the service started it, by its clock; the sweep compares with it.
    pub started_at: DateTime<Utc>,
    /// Whether its multipart upload checks every part's SHA-256 (`x-amz-checksum-algorithm:
    /// SHA256`): its parts are `PUT` with their checksums signed into their URLs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checksums: bool,
}

impl StagingRecord {
    /// The record of a staging just started as multipart upload `upload_id`.
    pub fn new(
        upload_id: String,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
        checksums: bool,
    ) -> Self {
        Self {
            staging: upload_id.clone(),
            upload_id,
            size: plan.size,
            part_size: plan.part_size,
            started_at,
            checksums,
        }
    }

    /// The part plan it was started with.
    pub fn plan(&self) -> PartPlan {
        PartPlan {
            size: self.size,
            part_size: self.part_size,
        }
    }

    /// Whether `staging` names this staging (by its first or its current upload id).
    pub fn owns(&self, staging: &StagingId) -> bool {
        staging.as_str() == self.staging || staging.as_str() == self.upload_id
    }
}

/// Where a staging's bytes are.
pub enum Located {
    /// Still in parts, in the record's multipart upload.
    Open {
        /// The record.
        record: StagingRecord,
        /// The parts stored, by number.
        parts: Vec<ListedPart>,
    },
    /// Assembled into the blob by a complete that did not finish checking it.
    Assembled {
        /// The record.
        record: StagingRecord,
    },
}

/// What a staging's record says that part URLs need: the multipart upload the parts go to,
/// the plan, and whether each part's checksum is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// The current upload id.
    pub upload_id: String,
    /// The part plan.
    pub plan: PartPlan,
    /// Whether the upload checks each part's SHA-256.
    pub checksums: bool,
}

impl StagingRecord {
    /// What part URLs need of it.
    pub fn known(&self) -> Known {
        Known {
            upload_id: self.upload_id.clone(),
            plan: self.plan(),
            checksums: self.checksums,
        }
    }
}

/// Blob key → (staging id, what part URLs need) of stagings seen lately.
#[derive(Debug, Default)]
pub struct StagingCache(Mutex<HashMap<String, (String, Known)>>);

impl StagingCache {
    /// What part URLs of `staging` need, if known.
    pub fn get(&self, key: &BlobKey, staging: &StagingId) -> Option<Known> {
        let cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .get(key.as_str())
            .filter(|(first, known)| {
                staging.as_str() == first || staging.as_str() == known.upload_id
            })
            .map(|(_, known)| known.clone())
    }

    /// Remembers what `record` says.
    pub fn remember(&self, key: &BlobKey, record: &StagingRecord) {
        let mut cache = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CACHE_LIMIT && !cache.contains_key(key.as_str()) {
            cache.clear();
        }
        cache.insert(
            key.as_str().to_owned(),
            (record.staging.clone(), record.known()),
        );
    }

    /// Forgets `key`'s staging.
    pub fn forget(&self, key: &BlobKey) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key.as_str());
    }
}

impl S3BlobStore {
    /// The object key of blob `key`'s staging record.
    pub(super) fn record_path(&self, key: &BlobKey) -> String {
        format!("{}staging/{}", self.prefix, key.as_str())
    }

    /// The record of `key`'s staging, if it has one.
    pub(super) async fn read_record(&self, key: &BlobKey) -> Result<Option<StagingRecord>> {
        match self.bucket.get_object(self.record_path(key)).await {
            Ok(response) => serde_json::from_slice(response.as_slice())
                .map(Some)
                .map_err(|error| {
                    Error::internal(
                        anyhow::Error::new(error).context("a staging record in S3 is malformed"),
                    )
                }),
            Err(error) if is_missing(&error) => Ok(None),
            Err(error) => Err(to_error(error, "read a staging record")),
        }
    }

    /// The record of `key`'s staging if `staging` is that staging, else not found.
    pub(super) async fn owned_record(
        &self,
        key: &BlobKey,
        staging: &StagingId,
    ) -> Result<StagingRecord> {
        self.read_record(key)
            .await?
            .filter(|record| record.owns(staging))
            .ok_or_else(staging_gone)
    }

    /// Writes `key`'s staging record.
    pub(super) async fn write_record(&self, key: &BlobKey, record: &StagingRecord) -> Result<()> {
        let bytes = serde_json::to_vec(record).map_err(Error::internal)?;
        self.bucket
            .put_object_with_content_type(self.record_path(key), &bytes, "application/json")
            .await
            .map(|_| ())
            .map_err(|error| to_error(error, "write a staging record"))
    }

    /// Deletes `key`'s staging record, if it is there.
    pub(super) async fn delete_record(&self, key: &BlobKey) -> Result<()> {
        match self.bucket.delete_object(self.record_path(key)).await {
            Err(error) if !is_missing(&error) => Err(to_error(error, "delete a staging record")),
            _ => Ok(()),
        }
    }

    /// Every part of multipart upload `upload_id` of blob `key`, by number (`ListParts`, page
    /// by page); `None` if S3 says the upload does not exist.
    pub(super) async fn list_parts(
        &self,
        key: &BlobKey,
        upload_id: &str,
    ) -> Result<Option<Vec<ListedPart>>> {
        let doing = "list the parts of an upload";
        let path = self.object_path(key);
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            // rust-s3 has no ListParts; it is a GET of the object with `?uploadId=`.
            let mut query = HashMap::from([("uploadId".to_owned(), upload_id.to_owned())]);
            if let Some(marker) = marker.take() {
                query.insert("part-number-marker".to_owned(), marker);
            }
            let bucket = self
                .bucket
                .with_extra_query(query)
                .map_err(|error| to_error(error, doing))?;
            let answer = match bucket.get_object(&path).await {
                Ok(answer) => answer,
                Err(error) if is_missing(&error) => return Ok(None),
                Err(error) => return Err(to_error(error, doing)),
            };
            let text = std::str::from_utf8(answer.as_slice()).map_err(Error::internal)?;
            let page = parse_list_parts(text).map_err(Error::internal)?;
            parts.extend(page.parts);
            match page.next_marker {
                Some(next) => marker = Some(next),
                None => break,
            }
        }
        parts.sort_by_key(|part| part.number);
        parts.dedup_by_key(|part| part.number);
        Ok(Some(parts))
    }

    /// Finds `staging`'s bytes: in parts (with the list), or already assembled. A staging whose
    /// upload vanished with nothing assembled gets a fresh upload, its parts forgotten.
    pub(super) async fn locate(&self, key: &BlobKey, staging: &StagingId) -> Result<Located> {
        let record = self.owned_record(key, staging).await?;
        // Only the plan's parts count; S3 would take others, but no URL of ours names one.
        let plan = record.plan();
        let listed = self.list_parts(key, &record.upload_id).await?.map(|parts| {
            parts
                .into_iter()
                .filter(|part| plan.part(part.number).is_some())
                .collect::<Vec<_>>()
        });
        if let Some(parts) = listed.as_ref().filter(|parts| !parts.is_empty()) {
            self.cache.remember(key, &record);
            return Ok(Located::Open {
                record,
                parts: parts.clone(),
            });
        }
        // No part: nothing sent yet, or a complete consumed the upload (some servers list a
        // consumed upload as empty rather than missing) and left the object.
        if self.object_exists(key).await? {
            return Ok(Located::Assembled { record });
        }
        let record = match listed {
            Some(_) => record,
            None => self.replace_upload(key, record).await?,
        };
        self.cache.remember(key, &record);
        Ok(Located::Open {
            record,
            parts: Vec::new(),
        })
    }

    /// Gives `record`'s staging a fresh multipart upload (the old one is consumed or gone) and
    /// records it; the staging id stays the same.
    pub(super) async fn replace_upload(
        &self,
        key: &BlobKey,
        record: StagingRecord,
    ) -> Result<StagingRecord> {
        let upload_id = self.create_upload(key, record.checksums).await?;
        let record = StagingRecord {
            upload_id,
            ..record
        };
        if let Err(error) = self.write_record(key, &record).await {
            if let Err(abort) = self
                .abort_upload(&self.object_path(key), &record.upload_id)
                .await
            {
                tracing::warn!(error = %abort.report(), "failed to abort an unrecorded upload; the sweep will retry");
            }
            return Err(error);
        }
        self.cache.remember(key, &record);
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_record_owns_its_first_and_its_current_upload() {
        let plan = PartPlan::new(10, 4).unwrap();
        let mut record = StagingRecord::new("first".into(), &plan, Utc::now(), true);
        record.upload_id = "second".into();
        assert!(record.owns(&StagingId("first".into())));
        assert!(record.owns(&StagingId("second".into())));
        assert!(!record.owns(&StagingId("other".into())));
        assert_eq!(record.plan(), plan);
        let text = serde_json::to_string(&record).unwrap();
        assert_eq!(
            serde_json::from_str::<StagingRecord>(&text).unwrap(),
            record
        );
    }

    #[test]
    fn the_cache_answers_for_its_staging_only() {
        let cache = StagingCache::default();
        let key = BlobKey::generate();
        let plan = PartPlan::new(10, 4).unwrap();
        let record = StagingRecord::new("u1".into(), &plan, Utc::now(), false);
        cache.remember(&key, &record);
        assert_eq!(
            cache.get(&key, &StagingId("u1".into())),
            Some(Known {
                upload_id: "u1".into(),
                plan,
                checksums: false
            })
        );
        assert_eq!(cache.get(&key, &StagingId("u2".into())), None);
        cache.forget(&key);
        assert_eq!(cache.get(&key, &StagingId("u1".into())), None);
    }
}
