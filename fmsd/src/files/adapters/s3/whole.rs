//! Whole stagings: a file of at most one part whose SHA-256 the client gave up front is one
//! `PutObject` straight to the blob's key, through a presigned URL that signs its
//! `Content-Length` and its `x-amz-checksum-sha256`. S3 refuses a body of another length or
//! another SHA-256, so the object that appears is the file the client hashed: no multipart
//! upload, no staging record, no request to S3 at create, and complete is one `HEAD`.
//!
//! The staging id is `whole:<size>:<sha256 hex>` (no S3 upload id has a colon), so the store
//! needs nothing else to sign the URL or check the object. A server that does not check
//! `x-amz-checksum-sha256` (found out at connect, [`S3BlobStore::probe_checksums`]) gets the
//! object read back and hashed at complete instead, as a multipart upload is; on a mismatch
//! the object is deleted and the client may `PUT` it again.

use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::wire::{is_missing, presign_secs, to_error};
use super::{S3BlobStore, BLOB_CONTENT_TYPE};
use crate::error::{Error, Result};
use crate::files::domain::{AssembledBlob, BlobKey, Sha256Hex, StagingId, StoredPart};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// What every whole staging id starts with.
const PREFIX: &str = "whole:";

/// The header S3 checks a body's SHA-256 against (base64 of the digest).
pub const CHECKSUM_HEADER: &str = "x-amz-checksum-sha256";

/// What a whole staging id says: the file's size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whole {
    /// The file's size.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: Sha256Hex,
}

impl Whole {
    /// The staging id of a whole upload of `size` bytes hashing to `sha256`.
    pub fn staging(size: u64, sha256: &Sha256Hex) -> StagingId {
        StagingId(format!("{PREFIX}{size}:{}", sha256.as_str()))
    }

    /// What `staging` says, if it is a whole staging.
    pub fn of(staging: &StagingId) -> Option<Whole> {
        let (size, sha256) = staging.as_str().strip_prefix(PREFIX)?.split_once(':')?;
        Some(Whole {
            size: size.parse().ok()?,
            sha256: Sha256Hex::parse(sha256).ok()?,
        })
    }

    /// The SHA-256 as `x-amz-checksum-sha256` states it.
    pub fn checksum(&self) -> String {
        base64_sha256(&self.sha256)
    }
}

/// A SHA-256 in hex as S3's checksum headers state it: the digest in base64.
pub fn base64_sha256(sha256: &Sha256Hex) -> String {
    // A `Sha256Hex` is 64 hex digits by construction, so it always decodes.
    let digest = hex::decode(sha256.as_str()).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(digest)
}

impl S3BlobStore {
    /// The presigned `PUT` of a whole staging's one part: its length and checksum signed.
    pub(super) async fn whole_part_url(
        &self,
        key: &BlobKey,
        whole: &Whole,
        number: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<String> {
        if number != 1 || whole.size == 0 {
            return Err(Error::Invalid(format!(
                "this upload has {} part(s), not part {number}",
                u32::from(whole.size > 0)
            )));
        }
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(whole.size));
        headers.insert(
            HeaderName::from_static(CHECKSUM_HEADER),
            HeaderValue::from_str(&whole.checksum()).map_err(Error::internal)?,
        );
        self.bucket
            .presign_put(
                self.object_path(key),
                presign_secs(expires_at, Utc::now()),
                Some(headers),
                None,
            )
            .await
            .map_err(|error| to_error(error, "presign an upload"))
    }

    /// The size of blob `key` as S3 holds it, `None` if it is not there.
    pub(super) async fn object_size(&self, key: &BlobKey) -> Result<Option<u64>> {
        match self.bucket.head_object(self.object_path(key)).await {
            Ok((_, 404)) => Ok(None),
            Ok((head, _)) => Ok(Some(
                head.content_length
                    .and_then(|length| u64::try_from(length).ok())
                    .unwrap_or(0),
            )),
            Err(error) if is_missing(&error) => Ok(None),
            Err(error) => Err(to_error(error, "look up a blob")),
        }
    }

    /// The part of a whole staging, if the client `PUT` it.
    pub(super) async fn whole_stored(
        &self,
        key: &BlobKey,
        whole: &Whole,
    ) -> Result<Vec<StoredPart>> {
        if whole.size == 0 {
            return Ok(Vec::new());
        }
        Ok(self
            .object_size(key)
            .await?
            .map(|size| StoredPart { number: 1, size })
            .into_iter()
            .collect())
    }

    /// Completes a whole staging: the object is there at its size (and, on a server that does
    /// not check checksums, hashes to the announced SHA-256).
    pub(super) async fn complete_whole(
        &self,
        key: &BlobKey,
        whole: &Whole,
        expected: Option<&Sha256Hex>,
    ) -> Result<AssembledBlob> {
        if expected.is_some_and(|expected| *expected != whole.sha256) {
            return Err(Error::Integrity(
                "the SHA-256 given at complete is not the one the upload was started with".into(),
            ));
        }
        if whole.size == 0 {
            self.bucket
                .put_object_with_content_type(self.object_path(key), &[], BLOB_CONTENT_TYPE)
                .await
                .map_err(|error| to_error(error, "store an empty blob"))?;
            return Ok(AssembledBlob {
                size: 0,
                sha256: whole.sha256.clone(),
            });
        }
        let Some(size) = self.object_size(key).await? else {
            return Err(Error::Conflict("parts 1 are not uploaded yet".into()));
        };
        let verified = if self.checksums.put_object {
            size == whole.size
        } else {
            self.hash_object(key)
                .await?
                .is_some_and(|(size, sha256)| size == whole.size && sha256 == whole.sha256)
        };
        if !verified {
            self.delete_object(key).await?;
            return Err(Error::Integrity(
                "the uploaded bytes are not the file announced; upload the part again".into(),
            ));
        }
        Ok(AssembledBlob {
            size,
            sha256: whole.sha256.clone(),
        })
    }

    /// Stores a whole staging's part from bytes fmsd holds, with its checksum for S3 to check.
    pub(super) async fn write_whole(
        &self,
        key: &BlobKey,
        whole: &Whole,
        bytes: &[u8],
    ) -> Result<()> {
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static(CHECKSUM_HEADER),
            HeaderValue::from_str(&whole.checksum()).map_err(Error::internal)?,
        );
        self.bucket
            .put_object_with_headers(self.object_path(key), bytes, Some(headers))
            .await
            .map(drop)
            .map_err(|error| to_error(error, "upload a part"))
    }

    /// Whether the server refuses a `PutObject` whose `x-amz-checksum-sha256` is wrong: one
    /// small one with a wrong checksum, at connect. A server that takes it does not check (nor
    /// does one that cannot be asked), and complete then reads each whole upload back to hash
    /// it.
    pub(super) async fn probe_checksums(&self) -> bool {
        match self.try_probe_checksums().await {
            Ok(checks) => checks,
            Err(error) => {
                tracing::warn!(error = %error.report(), "failed to find out whether S3 checks checksums; assuming it does not");
                false
            }
        }
    }

    async fn try_probe_checksums(&self) -> Result<bool> {
        let path = format!("{}checksum-probe", self.prefix);
        let wrong = Sha256Hex::from_digest(&Sha256::digest(b"not the body"));
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static(CHECKSUM_HEADER),
            HeaderValue::from_str(&base64_sha256(&wrong)).map_err(Error::internal)?,
        );
        match self
            .bucket
            .put_object_with_headers(&path, b"the body", Some(headers))
            .await
        {
            Ok(_) => {
                if let Err(error) = self.bucket.delete_object(&path).await {
                    tracing::warn!(error = %to_error(error, "delete the checksum probe").report(), "the checksum probe object stays");
                }
                Ok(false)
            }
            // A refusal counts only if nothing was kept: s3s-fs 0.14.1 answers 400 BadDigest
            // but leaves the wrong bytes at the key.
            Err(error) => match super::wire::answer(&error) {
                Some(answer) if (400..500).contains(&answer.status) => {
                    let kept = matches!(self.bucket.head_object(&path).await, Ok((_, 200)));
                    if kept {
                        let _ = self.bucket.delete_object(&path).await;
                    }
                    Ok(!kept)
                }
                _ => Err(to_error(error, "probe whether S3 checks checksums")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_whole_staging_id_names_its_size_and_checksum() {
        let sha256 = Sha256Hex::from_digest(&Sha256::digest(b"abc"));
        let staging = Whole::staging(3, &sha256);
        assert_eq!(
            Whole::of(&staging),
            Some(Whole {
                size: 3,
                sha256: sha256.clone()
            })
        );
        assert_eq!(Whole::of(&StagingId("0a1b2c".into())), None);
        assert_eq!(Whole::of(&StagingId("whole:x:y".into())), None);
        // The base64 of SHA-256("abc"), as S3 states it.
        assert_eq!(
            base64_sha256(&sha256),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
