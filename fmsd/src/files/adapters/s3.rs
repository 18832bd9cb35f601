//! The S3 blob store: every upload is an S3 multipart upload whose parts the client `PUT`s
//! straight to S3 through presigned URLs, so file bytes never pass through fmsd.
//!
//! Keys, under the configured `key_prefix` `P`:
//! - `P<key>`: a blob (the key is 32 hex digits, so nothing else is ever taken for one).
//! - `P<key>` while uploading: the multipart upload; the staging id is its `UploadId`.
//! - `Pstaging/<key>`: the staging's record (JSON: the staging id, the multipart upload the
//!   parts go to now, the part plan, when it was started). It exists exactly while the staging
//!   does: written after the upload is created, deleted before it is aborted or once complete
//!   succeeded (an upload a crash left without one is found by the sweep through
//!   `ListMultipartUploads`). It is what lets the sweep honour the service's start time and
//!   work on servers without `ListMultipartUploads`, and what keeps a staging usable after a
//!   failed check.
//!
//! The SHA-256 check: S3 keeps no whole-object SHA-256 of a multipart object (its checksums of
//! parts combine into a checksum of checksums), and the bytes never pass through fmsd. So
//! complete first checks every part's size from `ListParts`, then `CompleteMultipartUpload`,
//! then streams the object back and hashes it (constant memory: chunk by chunk, never whole).
//! On a mismatch the object is deleted and a new multipart upload replaces the consumed one in
//! the record: the staging id stays valid with its parts forgotten, as the port asks. A
//! complete cut short after assembling (crash, lost connection) leaves the object there with
//! its record; the next complete sees that and checks it again.
//!
//! Part URLs sign `Content-Length`, so S3 itself refuses a part of the wrong size.
//!
//! A file of at most one part whose SHA-256 the client gave up front skips all of the above:
//! it is one presigned `PutObject` whose checksum S3 checks (`whole`).
//!
//! Servers differ (measured on garage 2.5.0 and s3s-fs 0.14.1): s3s-fs lists the parts of an
//! upload id it does not know as none, answers 403 when such an upload is aborted and has no
//! `ListMultipartUploads`; the record makes the adapter independent of all three.
//!
//! `staging` holds the record, `ListParts` and how a staging is found; `assemble` complete's
//! two halves (assembling, hashing); `sweep` the clean-up; `wire` S3's error answers, the
//! `ListParts` document and presigned-URL details; `whole` the one-request uploads.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use s3::creds::Credentials;
use s3::{Bucket, Region};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::files::domain::{
    content_disposition, AssembledBlob, BlobKey, PartPlan, Sha256Hex, StagingId, StoredPart,
};
use crate::files::ports::{BlobStore, ByteStream};
use crate::health::Probe;
use crate::settings::{read_secret, S3Settings};

mod assemble;
mod checked;
mod staging;
mod sweep;
mod whole;
mod wire;

use staging::{Known, Located, StagingCache, StagingRecord};
use whole::Whole;
use wire::{is_missing, presign_secs, to_error};

/// How long reading an object back may go without receiving a byte.
const READ_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The content type blobs are stored with (fmsd serves bytes, not documents).
const BLOB_CONTENT_TYPE: &str = "application/octet-stream";

/// The blob store in an S3 bucket.
pub struct S3BlobStore {
    /// The bucket, for requests that answer at once (rust-s3's 60 s request timeout).
    bucket: Box<Bucket>,
    /// The same bucket without a whole-request timeout, for reading a large object back; an
    /// idle timeout guards it instead.
    streaming: Box<Bucket>,
    /// The bucket's name, for messages.
    bucket_name: String,
    /// Put before every key, so deployments and tests can share a bucket.
    prefix: String,
    /// The multipart upload and plan of stagings seen lately, so part URLs cost no request.
    cache: StagingCache,
    /// What the server checks of `x-amz-checksum-sha256` (probed at connect); what it does not
    /// check, complete reads back to hash instead.
    checksums: ChecksumSupport,
    /// For the one request signed here (a complete that names part checksums).
    http: reqwest::Client,
}

/// Which requests the S3 server refuses when their body does not match their
/// `x-amz-checksum-sha256`, as probed at connect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChecksumSupport {
    /// `PutObject` (a whole upload's one request).
    pub put_object: bool,
    /// `UploadPart` of a multipart upload started with `x-amz-checksum-algorithm: SHA256`.
    pub upload_part: bool,
}

impl fmt::Debug for S3BlobStore {
    // By hand: the bucket holds the credentials, which must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("bucket", &self.bucket_name)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl S3BlobStore {
    /// Connects to `bucket` as `settings` say and checks that it answers.
    pub async fn connect(bucket: &str, settings: &S3Settings) -> anyhow::Result<S3BlobStore> {
        let access_key = read_secret(
            settings.access_key.clone().map(SecretString::from).as_ref(),
            settings.access_key_file.as_deref(),
        )
        .context("failed to read the S3 access key")?
        .context("[s3] needs access_key or access_key_file")?;
        let secret_key = read_secret(
            settings.secret_key.as_ref(),
            settings.secret_key_file.as_deref(),
        )
        .context("failed to read the S3 secret key")?
        .context("[s3] needs secret_key or secret_key_file")?;
        let credentials = Credentials::new(
            Some(access_key.expose_secret()),
            Some(secret_key.expose_secret()),
            None,
            None,
            None,
        )
        .context("the S3 credentials are not usable")?;
        let (region, endpoint) = match &settings.endpoint {
            Some(url) => {
                let endpoint = url.as_str().trim_end_matches('/').to_owned();
                let region = Region::Custom {
                    region: settings.region.clone(),
                    endpoint: endpoint.clone(),
                };
                (region, endpoint)
            }
            None => {
                let region: Region = settings
                    .region
                    .parse()
                    .with_context(|| format!("'{}' is not an S3 region", settings.region))?;
                (region, format!("AWS S3 in {}", settings.region))
            }
        };
        let mut handle = Bucket::new(bucket, region, credentials)
            .with_context(|| format!("failed to set up the S3 bucket '{bucket}'"))?;
        if settings.path_style {
            handle = handle.with_path_style();
        }
        let mut streaming = handle.clone();
        streaming.set_request_timeout(None);
        let mut store = S3BlobStore {
            bucket: handle,
            streaming,
            bucket_name: bucket.to_owned(),
            prefix: settings.key_prefix.clone(),
            cache: StagingCache::default(),
            checksums: ChecksumSupport::default(),
            http: reqwest::Client::new(),
        };
        store.check_bucket().await.with_context(|| {
            format!(
                "the S3 bucket '{bucket}' at {endpoint} does not answer (check stores.blobs, \
                 [s3] endpoint, region, path_style and the keys)"
            )
        })?;
        store.checksums = ChecksumSupport {
            put_object: store.probe_checksums().await,
            upload_part: store.probe_part_checksums().await,
        };
        if store.checksums
            != (ChecksumSupport {
                put_object: true,
                upload_part: true,
            })
        {
            tracing::warn!(
                bucket,
                checks_put_object = store.checksums.put_object,
                checks_upload_part = store.checksums.upload_part,
                "this S3 server takes bodies whose x-amz-checksum-sha256 is wrong; fmsd reads \
                 those uploads back at complete to hash them"
            );
        }
        Ok(store)
    }

    /// What the server checks of `x-amz-checksum-sha256` (found out at connect); what it does
    /// not, complete reads back to hash.
    pub fn checksums(&self) -> ChecksumSupport {
        self.checksums
    }

    /// Lists at most one key under the prefix: the bucket exists and the keys are accepted.
    async fn check_bucket(&self) -> Result<()> {
        self.bucket
            .list_page(self.prefix.clone(), None, None, None, Some(1))
            .await
            .map(|_| ())
            .map_err(|error| to_error(error, "list the bucket"))
    }

    /// The object key of blob `key`.
    fn object_path(&self, key: &BlobKey) -> String {
        format!("{}{}", self.prefix, key.as_str())
    }

    /// Whether blob `key` exists.
    async fn object_exists(&self, key: &BlobKey) -> Result<bool> {
        match self.bucket.head_object(self.object_path(key)).await {
            Ok((_, status)) => Ok(status != 404),
            Err(error) if is_missing(&error) => Ok(false),
            Err(error) => Err(to_error(error, "look up a blob")),
        }
    }

    /// Deletes blob `key`; one that is not there is deleted already.
    async fn delete_object(&self, key: &BlobKey) -> Result<()> {
        match self.bucket.delete_object(self.object_path(key)).await {
            Err(error) if !is_missing(&error) => Err(to_error(error, "delete a blob")),
            _ => Ok(()),
        }
    }

    /// The multipart upload, plan and checksum mode of `staging`, from the cache when it was
    /// seen lately.
    async fn known_staging(&self, key: &BlobKey, staging: &StagingId) -> Result<Known> {
        if let Some(known) = self.cache.get(key, staging) {
            return Ok(known);
        }
        let record = self.owned_record(key, staging).await?;
        self.cache.remember(key, &record);
        Ok(record.known())
    }

    /// Starts a multipart upload of blob `key` (checking each part's SHA-256 with
    /// `checksums`); returns its upload id.
    async fn create_upload(&self, key: &BlobKey, checksums: bool) -> Result<String> {
        self.create_upload_at(&self.object_path(key), checksums)
            .await
    }

    /// Starts a multipart upload of the object `path`; returns its upload id.
    async fn create_upload_at(&self, path: &str, checksums: bool) -> Result<String> {
        let bucket = if checksums {
            let mut headers = http::HeaderMap::new();
            headers.insert(
                "x-amz-checksum-algorithm",
                http::HeaderValue::from_static("SHA256"),
            );
            self.bucket
                .with_extra_headers(headers)
                .map_err(|error| to_error(error, "start a multipart upload"))?
        } else {
            self.bucket.as_ref().clone()
        };
        bucket
            .initiate_multipart_upload(path, BLOB_CONTENT_TYPE)
            .await
            .map(|started| started.upload_id)
            .map_err(|error| to_error(error, "start a multipart upload"))
    }

    /// Starts a staging: its multipart upload, then its record.
    async fn start_staging(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
        checksums: bool,
    ) -> Result<StagingId> {
        let upload_id = self.create_upload(key, checksums).await?;
        let record = StagingRecord::new(upload_id.clone(), plan, started_at, checksums);
        if let Err(error) = self.write_record(key, &record).await {
            if let Err(abort) = self.abort_upload(&self.object_path(key), &upload_id).await {
                tracing::warn!(error = %abort.report(), "failed to abort an unrecorded upload; the sweep will retry");
            }
            return Err(error);
        }
        self.cache.remember(key, &record);
        Ok(StagingId(upload_id))
    }

    /// Aborts multipart upload `upload_id` of the object `path`; one that is gone is aborted.
    async fn abort_upload(&self, path: &str, upload_id: &str) -> Result<()> {
        match self.bucket.abort_upload(path, upload_id).await {
            Err(error) if !is_missing(&error) => Err(to_error(error, "abort a multipart upload")),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    #[tracing::instrument(skip(self, plan), fields(key = key.as_str()))]
    async fn start_upload(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
    ) -> Result<StagingId> {
        self.start_staging(key, plan, started_at, false).await
    }

    #[tracing::instrument(skip(self, plan), fields(key = key.as_str()))]
    async fn start_checked(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
    ) -> Result<StagingId> {
        // Checksums a server does not check would only cost the client its hashing.
        let checksums = self.checksums.upload_part;
        self.start_staging(key, plan, started_at, checksums).await
    }

    async fn checks_parts(&self, key: &BlobKey, staging: &StagingId) -> Result<bool> {
        if Whole::of(staging).is_some() {
            return Ok(false);
        }
        Ok(self.known_staging(key, staging).await?.checksums)
    }

    #[tracing::instrument(skip(self, sha256, expires_at), fields(key = key.as_str()))]
    async fn checked_part_url(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        number: u32,
        sha256: &Sha256Hex,
        expires_at: DateTime<Utc>,
    ) -> Result<(String, Vec<(String, String)>)> {
        if let Some(whole) = Whole::of(staging) {
            let url = self.whole_part_url(key, &whole, number, expires_at).await?;
            return Ok((url, self.part_headers(staging, number)));
        }
        let known = self.known_staging(key, staging).await?;
        let checksum = known.checksums.then(|| whole::base64_sha256(sha256));
        let url = self
            .presign_part(key, &known, number, checksum.as_deref(), expires_at)
            .await?;
        let headers = checksum
            .map(|checksum| (whole::CHECKSUM_HEADER.to_owned(), checksum))
            .into_iter()
            .collect();
        Ok((url, headers))
    }

    #[tracing::instrument(skip(self, plan, sha256, _started_at), fields(key = key.as_str()))]
    async fn start_whole(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        sha256: &Sha256Hex,
        _started_at: DateTime<Utc>,
    ) -> Result<StagingId> {
        // Nothing to do on S3: the client's PUT makes the object, or nothing does.
        Ok(Whole::staging(plan.size, sha256))
    }

    fn part_headers(&self, staging: &StagingId, number: u32) -> Vec<(String, String)> {
        match Whole::of(staging) {
            Some(whole) if number == 1 => {
                vec![(whole::CHECKSUM_HEADER.to_owned(), whole.checksum())]
            }
            _ => Vec::new(),
        }
    }

    #[tracing::instrument(skip(self, expires_at), fields(key = key.as_str()))]
    async fn part_url(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        number: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<String> {
        if let Some(whole) = Whole::of(staging) {
            return self.whole_part_url(key, &whole, number, expires_at).await;
        }
        let known = self.known_staging(key, staging).await?;
        self.presign_part(key, &known, number, None, expires_at)
            .await
    }

    #[tracing::instrument(skip(self), fields(key = key.as_str()))]
    async fn stored_parts(&self, key: &BlobKey, staging: &StagingId) -> Result<Vec<StoredPart>> {
        if let Some(whole) = Whole::of(staging) {
            return self.whole_stored(key, &whole).await;
        }
        Ok(match self.locate(key, staging).await? {
            Located::Open { parts, .. } => parts
                .into_iter()
                .map(|part| StoredPart {
                    number: part.number,
                    size: part.size,
                })
                .collect(),
            // Assembled by a complete that did not finish: every part is in the object.
            Located::Assembled { record } => {
                let plan = record.plan();
                (1..=plan.n_parts())
                    .filter_map(|number| {
                        plan.part(number)
                            .map(|(_, size)| StoredPart { number, size })
                    })
                    .collect()
            }
        })
    }

    #[tracing::instrument(skip(self, plan, expected), fields(key = key.as_str()))]
    async fn complete(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        plan: &PartPlan,
        expected: Option<&Sha256Hex>,
    ) -> Result<AssembledBlob> {
        if let Some(whole) = Whole::of(staging) {
            return self.complete_whole(key, &whole, expected).await;
        }
        let record = match self.locate(key, staging).await? {
            Located::Open { record, parts } => {
                check_plan(&record, plan, staging)?;
                if let Some(expected) =
                    expected.filter(|e| self.parts_checked(&record, &parts, Some(e)))
                {
                    return self.assemble_checked(key, &record, &parts, expected).await;
                }
                self.assemble(key, &record, parts).await?;
                record
            }
            Located::Assembled { record } => {
                check_plan(&record, plan, staging)?;
                record
            }
        };
        let Some((size, sha256)) = self.hash_object(key).await? else {
            return Err(Error::internal(anyhow::anyhow!(
                "the assembled upload vanished from S3 before it was checked"
            )));
        };
        let mismatch = expected.filter(|expected| **expected != sha256);
        if size != plan.size || mismatch.is_some() {
            // Nothing may stay at the key; a fresh multipart upload takes the parts again.
            self.delete_object(key).await?;
            self.replace_upload(key, record).await?;
            return Err(Error::Integrity(match mismatch {
                Some(expected) => format!(
                    "the uploaded bytes have SHA-256 {}, not the expected {}; upload the parts again",
                    sha256.as_str(),
                    expected.as_str()
                ),
                None => format!(
                    "{size} bytes arrived but the upload announced {}; upload the parts again",
                    plan.size
                ),
            }));
        }
        // The record goes before success is reported, so no record ever names a live blob.
        self.delete_record(key).await?;
        self.cache.forget(key);
        Ok(AssembledBlob { size, sha256 })
    }

    #[tracing::instrument(skip(self), fields(key = key.as_str()))]
    async fn abort(&self, key: &BlobKey, staging: &StagingId) -> Result<()> {
        if Whole::of(staging).is_some() {
            // Nothing but the object, which goes with the blob.
            return Ok(());
        }
        let path = self.object_path(key);
        let record = self
            .read_record(key)
            .await?
            .filter(|record| record.owns(staging));
        if record.is_none() {
            self.cache.forget(key);
        }
        if let Some(record) = &record {
            // Record first: a staging without one is gone, whatever happens next.
            self.delete_record(key).await?;
            self.cache.forget(key);
            self.abort_upload(&path, &record.upload_id).await?;
            if record.upload_id == staging.as_str() {
                return Ok(());
            }
        }
        // The first upload of a replaced staging, or one a failed abort left without its
        // record: normally gone already. Servers differ in how they say so (s3s-fs answers 403
        // for an upload id it does not know), so only an unreachable S3 is an error here.
        match self.abort_upload(&path, staging.as_str()).await {
            Err(error @ Error::Unavailable(_)) => Err(error),
            Err(error) => {
                tracing::debug!(error = %error.report(), "an upload without a record could not be aborted; taking it as gone");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    #[tracing::instrument(skip(self, expires_at, file_name), fields(key = key.as_str()))]
    async fn download_url(
        &self,
        key: &BlobKey,
        expires_at: DateTime<Utc>,
        file_name: &str,
    ) -> Result<String> {
        let query = HashMap::from([(
            "response-content-disposition".to_owned(),
            content_disposition(file_name),
        )]);
        self.bucket
            .presign_get(
                self.object_path(key),
                presign_secs(expires_at, Utc::now()),
                Some(query),
            )
            .await
            .map_err(|error| to_error(error, "presign a download"))
    }

    #[tracing::instrument(skip(self), fields(key = key.as_str()))]
    async fn read(&self, key: &BlobKey, offset: u64, len: u64) -> Result<ByteStream> {
        if !self.object_exists(key).await? {
            return Err(Error::NotFound("no such file".into()));
        }
        if len == 0 {
            return Ok(futures::stream::empty().boxed());
        }
        // One ranged GET streamed through a pipe: memory stays at the pipe's size.
        let (mut writer, reader) = tokio::io::duplex(256 * 1024);
        let (bucket, path) = (self.streaming.clone(), self.object_path(key));
        tokio::spawn(async move {
            let last = offset + len - 1;
            if let Err(error) = bucket
                .get_object_range_to_writer(path, offset, Some(last), &mut writer)
                .await
            {
                tracing::warn!(error = %to_error(error, "read a blob").report(), "a blob read from S3 stopped");
            }
        });
        Ok(tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).boxed())
    }

    #[tracing::instrument(skip(self), fields(key = key.as_str()))]
    async fn delete(&self, key: &BlobKey) -> Result<()> {
        self.delete_object(key).await
    }

    #[tracing::instrument(skip(self, body), fields(key = key.as_str()))]
    async fn write_part(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        number: u32,
        size: u64,
        mut body: ByteStream,
    ) -> Result<StoredPart> {
        let whole = Whole::of(staging);
        let (upload_id, plan) = match &whole {
            Some(whole) => (String::new(), PartPlan::new(whole.size, whole.size.max(1))?),
            None => {
                let known = self.known_staging(key, staging).await?;
                (known.upload_id, known.plan)
            }
        };
        match plan.part(number) {
            Some((_, planned)) if planned == size => {}
            Some((_, planned)) => {
                return Err(Error::Invalid(format!(
                    "part {number} must be exactly {planned} bytes, not {size}"
                )))
            }
            None => {
                return Err(Error::Invalid(format!(
                    "this upload has parts 1 to {}, not part {number}",
                    plan.n_parts()
                )))
            }
        }
        // S3 takes a part whole: the one buffer of a part, filled as the body arrives.
        let mut bytes = Vec::with_capacity(usize::try_from(size).map_err(Error::internal)?);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|error| {
                Error::Invalid(format!("part {number} did not arrive whole: {error}"))
            })?;
            if (bytes.len() + chunk.len()) as u64 > size {
                return Err(Error::Invalid(format!(
                    "part {number} has more than {size} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() as u64 != size {
            return Err(Error::Invalid(format!(
                "part {number} must be exactly {size} bytes, not {}",
                bytes.len()
            )));
        }
        if let Some(whole) = &whole {
            self.write_whole(key, whole, &bytes).await?;
            return Ok(StoredPart { number, size });
        }
        self.bucket
            .put_multipart_chunk(
                bytes,
                &self.object_path(key),
                number,
                &upload_id,
                BLOB_CONTENT_TYPE,
            )
            .await
            .map_err(|error| to_error(error, "upload a part"))?;
        Ok(StoredPart { number, size })
    }

    #[tracing::instrument(skip(self))]
    async fn sweep(&self, older_than: DateTime<Utc>) -> Result<u64> {
        self.sweep_stagings(older_than).await
    }
}

#[async_trait]
impl Probe for S3BlobStore {
    async fn probe(&self) -> Result<()> {
        self.check_bucket().await.map_err(|error| match error {
            Error::Internal(cause) => Error::Unavailable(cause),
            other => other,
        })
    }
}

/// The plan complete is given must be the one the staging was started with.
fn check_plan(record: &StagingRecord, plan: &PartPlan, staging: &StagingId) -> Result<()> {
    if record.plan() == *plan {
        Ok(())
    } else {
        Err(Error::internal(anyhow::anyhow!(
            "staging {} was started with another part plan",
            staging.as_str()
        )))
    }
}
