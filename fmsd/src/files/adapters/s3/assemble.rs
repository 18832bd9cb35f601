//! Complete's two halves on S3: assembling the parts into the object, and reading the object
//! back to hash it (S3 keeps no SHA-256 of a multipart object).

use futures::StreamExt;
use s3::serde_types::Part;
use sha2::{Digest, Sha256};

use super::staging::StagingRecord;
use super::wire::{self, is_missing, to_error};
use super::{S3BlobStore, BLOB_CONTENT_TYPE, READ_IDLE_TIMEOUT};
use crate::error::{Error, Result};
use crate::files::domain::{BlobKey, Sha256Hex};

impl S3BlobStore {
    /// Streams blob `key` back and hashes it: its size and SHA-256, `None` if it is not there.
    /// Memory stays flat whatever the size: each chunk is hashed and dropped.
    pub(super) async fn hash_object(&self, key: &BlobKey) -> Result<Option<(u64, Sha256Hex)>> {
        let doing = "read back an assembled upload";
        let mut response = match self
            .streaming
            .get_object_stream(self.object_path(key))
            .await
        {
            Ok(response) => response,
            Err(error) if is_missing(&error) => return Ok(None),
            Err(error) => return Err(to_error(error, doing)),
        };
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            let next = tokio::time::timeout(READ_IDLE_TIMEOUT, response.bytes.next())
                .await
                .map_err(|_| {
                    Error::unavailable(anyhow::anyhow!(
                        "S3 sent no byte for {} s while an upload was read back",
                        READ_IDLE_TIMEOUT.as_secs()
                    ))
                })?;
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|error| to_error(error, doing))?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
        }
        Ok(Some((size, Sha256Hex::from_digest(&hasher.finalize()))))
    }

    /// Turns the parts listed for `record` into the object: `CompleteMultipartUpload`, or for
    /// an empty file (no parts, which S3 refuses to complete) an empty object.
    pub(super) async fn assemble(
        &self,
        key: &BlobKey,
        record: &StagingRecord,
        parts: Vec<wire::ListedPart>,
    ) -> Result<()> {
        let path = self.object_path(key);
        let plan = record.plan();
        let complete = parts.len() == plan.n_parts() as usize
            && parts
                .iter()
                .all(|part| plan.part(part.number).map(|(_, size)| size) == Some(part.size));
        if !complete {
            return Err(Error::Conflict("not every part is uploaded yet".into()));
        }
        if parts.is_empty() {
            self.bucket
                .put_object_with_content_type(&path, &[], BLOB_CONTENT_TYPE)
                .await
                .map_err(|error| to_error(error, "store an empty blob"))?;
            return self.abort_upload(&path, &record.upload_id).await;
        }
        let parts = parts
            .into_iter()
            .map(|part| Part {
                part_number: part.number,
                etag: part.etag,
            })
            .collect();
        match self
            .bucket
            .complete_multipart_upload(&path, &record.upload_id, parts)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => Err(match wire::answer(&error).map(|answer| answer.code) {
                Some(code) if code == "EntityTooSmall" => Error::Invalid(
                    "S3 refuses parts smaller than 5 MiB (but the last); raise \
                     files.part_size_bytes"
                        .into(),
                ),
                Some(code) if code == "InvalidPart" || code == "InvalidPartOrder" => {
                    Error::Conflict(
                        "a part changed while the upload was completed; complete it again".into(),
                    )
                }
                _ => to_error(error, "complete a multipart upload"),
            }),
        }
    }
}
